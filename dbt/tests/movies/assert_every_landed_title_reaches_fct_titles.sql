-- Every (kind, source id) ever landed is one row of fct_titles, and fct_titles
-- holds nothing else: a movie and a series sharing an id are two rows.

with landed as (

    select distinct title_key, kind, source_id from {{ ref('base_movies__titles') }}

),

mart as (

    select title_key, kind, source_id from {{ ref('fct_titles') }}

)

select
    coalesce(landed.title_key, mart.title_key) as title_key,
    landed.kind as landed_kind,
    mart.kind as mart_kind

from landed
full outer join mart
    on landed.title_key = mart.title_key
where landed.title_key is null
   or mart.title_key is null
   or landed.kind <> mart.kind
   or landed.source_id <> mart.source_id
