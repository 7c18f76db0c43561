{#
    A date written in any of the spellings the publication exports mix, as a date:
      2020-01-01       ISO 8601
      25/05/2020       day first: the exports write d/m/Y (25/05/2020 has no 25th
                       month), so 01/02/2020 is the 1st of February
      1 January 2020   day, English month name (or its first three letters), year
    Anything else, and impossible dates (31/02/2020), give null: the staging models
    keep the text beside it and a test lists what no rule read.
#}
{% macro parse_mixed_date(column) -%}
    (
        select
            case
                when parts.year_number between 1 and 9999 and parts.month_number between 1 and 12 then
                    case
                        when parts.day_number between 1 and extract(
                            day from make_date(parts.year_number, parts.month_number, 1) + interval '1 month - 1 day'
                        )
                            then make_date(parts.year_number, parts.month_number, parts.day_number)
                    end
            end
        from (
            select
                coalesce(iso[1], day_first[3], named[3])::int as year_number,
                coalesce(
                    iso[2]::int,
                    day_first[2]::int,
                    (
                        select months.number::int
                        from unnest(array[
                            'january', 'february', 'march', 'april', 'may', 'june', 'july',
                            'august', 'september', 'october', 'november', 'december'
                        ]) with ordinality as months (month_name, number)
                        where months.month_name = lower(named[2])
                            or (length(named[2]) = 3 and left(months.month_name, 3) = lower(named[2]))
                    )
                ) as month_number,
                coalesce(iso[3], day_first[1], named[1])::int as day_number
            from (
                select
                    regexp_match({{ column }}, '^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$') as iso,
                    regexp_match({{ column }}, '^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$') as day_first,
                    regexp_match({{ column }}, '^\s*(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})\s*$') as named
            ) as matched
        ) as parts
    )
{%- endmacro %}
