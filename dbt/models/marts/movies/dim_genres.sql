-- One row per genre: every genre of the genre list, plus any genre id a title
-- names that the list lacks (is_listed = false, name 'genre <id>'), so every
-- bridge row has its dimension row.

with listed as (

    select genre_id, genre_name from {{ ref('stg_movies__genres') }}

),

named_by_titles as (

    select distinct genre_id from {{ ref('int_movies__title_genres') }}

),

final as (

    select
        coalesce(listed.genre_id, named_by_titles.genre_id) as genre_id,
        coalesce(listed.genre_name, 'genre ' || named_by_titles.genre_id) as genre_name,
        listed.genre_id is not null as is_listed

    from listed
    full outer join named_by_titles
        on listed.genre_id = named_by_titles.genre_id

)

select * from final
