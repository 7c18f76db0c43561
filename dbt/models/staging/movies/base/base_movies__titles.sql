-- Every landed version of every title, renamed and cleaned; no deduplication.
-- Nested companies, cast, crew and genre ids stay jsonb: the intermediate models
-- unnest them for the bridge tables.

with source as (

    select * from {{ source('movies', 'movies__titles') }}

),

cleaned as (

    select
        -- ids: a movie and a series may share a source id, so a title is (kind, id)
        {{ surrogate_key(['lower(trim(kind))', 'id']) }} as title_key,
        lower(trim(kind)) as kind,
        id as source_id,

        -- text: HTML entities decoded, bare \r and \r\n line breaks made \n
        {{ decode_html_entities('trim(title)') }} as title,
        {{ decode_html_entities("nullif(trim(original_title), '')") }} as original_title,
        lower(nullif(trim(original_language), '')) as original_language,
        {{ decode_html_entities("regexp_replace(overview, '\\r\\n?', E'\\n', 'g')") }} as overview,
        nullif(trim(status), '') as status,

        -- dates: "" (movies) and null (series) both mean unknown; the state says which
        {{ export_date('start_date') }} as start_date,
        {{ date_text_state('start_date') }} as start_date_state,
        {{ export_date('end_date') }} as end_date,
        {{ date_text_state('end_date') }} as end_date_state,

        -- figures: the export writes 0 for an unknown runtime, budget or revenue
        nullif(runtime, 0) as runtime_minutes,
        nullif(budget, 0) as budget_usd,
        nullif(revenue, 0) as revenue_usd,
        vote_average,
        coalesce(vote_count, 0) as vote_count,
        popularity,
        number_of_seasons,

        -- nested
        {{ decode_html_entities("collection ->> 'name'") }} as collection_name,
        genre_ids,
        production_companies,
        "cast" as cast_credits,
        crew as crew_credits,

        -- landing metadata
        {{ landing_metadata_columns() }}

    from source

)

select * from cleaned
