-- One row per (title, production company) of the latest version of each title,
-- with the company's name and country as that title's file wrote them.

with titles as (

    select title_key, production_companies, _landed_at from {{ ref('stg_movies__titles') }}

),

companies as (

    select
        titles.title_key,
        (company.value ->> 'id')::bigint as company_id,
        {{ decode_html_entities("trim(company.value ->> 'name')") }} as company_name,
        nullif(upper(trim(company.value ->> 'origin_country')), '') as origin_country,
        titles._landed_at,
        row_number() over (
            partition by titles.title_key, (company.value ->> 'id')::bigint order by company.position
        ) as listed

    from titles
    cross join lateral jsonb_array_elements(titles.production_companies)
        with ordinality as company (value, position)

)

select title_key, company_id, company_name, origin_country, _landed_at
from companies
where listed = 1
