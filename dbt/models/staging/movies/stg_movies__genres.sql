-- One row per genre: the latest landed version of each genre_id.

with ranked as (
{{ rank_versions(ref('base_movies__genres'), 'genre_id') }}
),

latest as (

    select
        genre_id,
        genre_name,
        versions_count,
        _event_id,
        _landed_at

    from ranked
    where version_rank = 1

)

select * from latest
