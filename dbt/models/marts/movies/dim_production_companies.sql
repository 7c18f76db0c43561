-- One row per production company named by a title. Companies have no export of
-- their own: name and country are taken from the most recently landed title that
-- lists the company.

with companies as (

    select
        *,
        row_number() over (partition by company_id order by _landed_at desc, title_key) as recency

    from {{ ref('int_movies__title_companies') }}

),

titles as (

    select company_id, count(*) as titles_count
    from {{ ref('int_movies__title_companies') }}
    group by company_id

)

select
    companies.company_id,
    companies.company_name,
    companies.origin_country,
    titles.titles_count

from companies
inner join titles
    on companies.company_id = titles.company_id
where companies.recency = 1
