-- Every landed version of every genre, renamed and cleaned; no deduplication.

with source as (

    select * from {{ source('movies', 'movies__genres') }}

),

cleaned as (

    select
        id as genre_id,
        {{ decode_html_entities('trim(name)') }} as genre_name,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
