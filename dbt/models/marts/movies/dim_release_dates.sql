-- One row per calendar day from the first of January of the earliest title date to
-- the 31st of December of the latest (start or end): the date dimension of
-- fct_titles (start_date_key = date_key).

with bounds as (

    select
        date_trunc('year', min(start_date))::date as first_day,
        (date_trunc('year', max(greatest(start_date, end_date))) + interval '1 year - 1 day')::date as last_day

    from {{ ref('stg_movies__titles') }}

),

days as (

    select day::date as calendar_date
    from bounds
    cross join lateral generate_series(bounds.first_day, bounds.last_day, interval '1 day') as day

)

select
    to_char(calendar_date, 'YYYYMMDD')::integer as date_key,
    calendar_date,
    extract(year from calendar_date)::integer as year,
    extract(quarter from calendar_date)::integer as quarter,
    extract(month from calendar_date)::integer as month,
    trim(to_char(calendar_date, 'Month')) as month_name,
    (extract(year from calendar_date)::integer / 10 * 10) as decade,
    extract(isodow from calendar_date)::integer as iso_day_of_week,
    extract(isodow from calendar_date) >= 6 as is_weekend

from days
