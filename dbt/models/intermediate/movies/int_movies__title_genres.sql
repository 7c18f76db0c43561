-- One row per (title, genre id) of the latest version of each title.
-- A genre listed twice on one title counts once.

with titles as (

    select title_key, genre_ids, _landed_at from {{ ref('stg_movies__titles') }}

)

select distinct
    titles.title_key,
    genre.value::bigint as genre_id,
    titles._landed_at

from titles
cross join lateral jsonb_array_elements_text(titles.genre_ids) as genre (value)
