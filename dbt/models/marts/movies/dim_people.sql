-- One row per person credited on a title, in the cast or the crew. People have no
-- export of their own: the name is taken from their most recently landed credit.

with credits as (

    select
        *,
        row_number() over (partition by person_id order by _landed_at desc, title_key, credit_key) as recency

    from {{ ref('int_movies__title_credits') }}

),

counts as (

    select
        person_id,
        count(*) filter (where credit_type = 'cast') as cast_credits_count,
        count(*) filter (where credit_type = 'crew') as crew_credits_count,
        count(distinct title_key) as titles_count

    from {{ ref('int_movies__title_credits') }}
    group by person_id

)

select
    credits.person_id,
    credits.person_name,
    counts.cast_credits_count,
    counts.crew_credits_count,
    counts.titles_count

from credits
inner join counts
    on credits.person_id = counts.person_id
where credits.recency = 1
