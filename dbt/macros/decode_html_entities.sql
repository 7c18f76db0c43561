{#
    Text with the HTML entities catalogue exports leave in names decoded:
    &amp; &lt; &gt; &quot; &#39; &apos; &nbsp;. `&amp;` goes last, so `&amp;lt;`
    (an escaped entity) becomes the text `&lt;`, not `<`.
#}
{% macro decode_html_entities(expression) -%}
    replace(replace(replace(replace(replace(replace(replace(
        {{ expression }},
        '&lt;', '<'), '&gt;', '>'), '&quot;', '"'), '&#39;', ''''), '&apos;', ''''), '&nbsp;', ' '),
        '&amp;', '&')
{%- endmacro %}
