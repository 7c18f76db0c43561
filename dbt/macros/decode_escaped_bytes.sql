{#
    Text with bytes written out as literal escapes (`Se\xc3\xb1ales`, four characters
    per byte) turned back into the characters they encode (`Señales`).

    Some exports write a UTF-8 byte they could not print as `\x` + two hex digits.
    Each run of such escapes is decoded as UTF-8 when it is a complete, valid UTF-8
    sequence; a run that is not (a truncated character such as `\xc3\x28`) is kept
    exactly as written, so nothing is guessed. Returns a scalar expression; null
    stays null and empty text stays empty.
#}
{% macro decode_escaped_bytes(column) -%}
    case when {{ column }} is not null then (
        select coalesce(string_agg(
            case
                when piece[1] is not null
                    and lower(replace(piece[1], '\x', '')) ~ '{{ utf8_hex_pattern() }}'
                    then convert_from(decode(replace(piece[1], '\x', ''), 'hex'), 'UTF8')
                else coalesce(piece[1], piece[2])
            end,
            '' order by position), '')
        from regexp_matches({{ column }}, '((?:\\x[0-9A-Fa-f]{2})+)|(\\|[^\\]+)', 'g')
            with ordinality as pieces (piece, position)
    ) end
{%- endmacro %}

{#
    Lower-case hex digits that spell one or more complete UTF-8 characters, without
    NUL, overlong forms or surrogates (which Postgres refuses to decode).
#}
{% macro utf8_hex_pattern() -%}
^(?:0[1-9a-f]|[1-7][0-9a-f]|(?:c[2-9a-f]|d[0-9a-f])[89ab][0-9a-f]|e0[ab][0-9a-f][89ab][0-9a-f]|e[1-9abcef][89ab][0-9a-f][89ab][0-9a-f]|ed[89][0-9a-f][89ab][0-9a-f]|f0[9ab][0-9a-f](?:[89ab][0-9a-f]){2}|f[1-3](?:[89ab][0-9a-f]){3}|f48[0-9a-f](?:[89ab][0-9a-f]){2})+$
{%- endmacro %}
