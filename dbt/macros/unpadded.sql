{#
    A text id or code as the business knows it: surrounding blanks trimmed, the
    spreadsheet padding ="PT00042" (a formula that keeps leading zeros) removed,
    and an empty value made null. Raw tables keep the value as read; staging
    applies this to every id of an export known to carry the padding.
#}
{% macro unpadded(column) -%}
    nullif(regexp_replace(trim({{ column }}), '^="(.*)"$', '\1'), '')
{%- endmacro %}
