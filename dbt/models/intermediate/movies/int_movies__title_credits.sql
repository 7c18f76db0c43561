-- One row per credit of the latest version of each title: cast (a person playing a
-- character, in billing order) and crew (a person doing a job in a department).
-- credit_key tells credits apart: a person may act and direct in one title, play
-- two parts (two billing positions) or hold two crew jobs.

with titles as (

    select title_key, cast_credits, crew_credits, _landed_at from {{ ref('stg_movies__titles') }}

),

cast_credits as (

    select
        titles.title_key,
        'cast' as credit_type,
        (credit.value ->> 'person_id')::bigint as person_id,
        {{ decode_html_entities("trim(credit.value ->> 'name')") }} as person_name,
        {{ decode_html_entities("nullif(trim(credit.value ->> 'character'), '')") }} as character_name,
        (credit.value ->> 'order')::integer as billing_order,
        null::text as department,
        null::text as job,
        titles._landed_at

    from titles
    cross join lateral jsonb_array_elements(titles.cast_credits) as credit (value)

),

crew_credits as (

    select
        titles.title_key,
        'crew' as credit_type,
        (credit.value ->> 'person_id')::bigint as person_id,
        {{ decode_html_entities("trim(credit.value ->> 'name')") }} as person_name,
        null::text as character_name,
        null::integer as billing_order,
        trim(credit.value ->> 'department') as department,
        trim(credit.value ->> 'job') as job,
        titles._landed_at

    from titles
    cross join lateral jsonb_array_elements(titles.crew_credits) as credit (value)

),

credits as (

    select * from cast_credits
    union all
    select * from crew_credits

)

select
    {{ surrogate_key(['title_key', 'credit_type', 'person_id', 'job', 'billing_order']) }} as credit_key,
    *
from credits
