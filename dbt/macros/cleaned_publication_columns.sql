{#
    The select list shared by the base models of publications (PubMed articles and
    clinical trials): the exports write titles, journals and dates the same way, so
    both are cleaned by the same rules. Titles and journals: literal escaped bytes
    decoded, surrounding whitespace removed, whitespace-only text null. Dates: the text
    is kept beside the date parse_mixed_date reads from it. The landing metadata
    columns follow in the model itself.
#}
{% macro cleaned_publication_columns(id_column, title_column) -%}
    trim({{ id_column }}) as {{ id_column }},
        nullif(btrim({{ decode_escaped_bytes(title_column) }}, E' \t\r\n'), '') as title,
        nullif(btrim({{ decode_escaped_bytes('journal') }}, E' \t\r\n'), '') as journal,
        published_on as published_on_text,
        {{ parse_mixed_date('published_on') }} as published_on
{%- endmacro %}
