{{
    config(
        materialized='incremental',
        unique_key='title_key',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['_max_landed_at']}, {'columns': ['release_year']}]
    )
}}

-- One row per title of the catalogue (a movie or a series), its latest version:
-- the measures (budget, revenue, runtime, votes, popularity) and the keys of its
-- dimensions. title_key keeps a movie and a series with the same source id apart.
-- Genres, companies and people are many-to-many: see the bridge_title_* marts.
-- Incremental: merges every title whose latest version landed after this table's
-- watermark minus the lookback window.

with titles as (

    select * from {{ ref('stg_movies__titles') }}

    {% if is_incremental() %}
    where _landed_at > {{ landed_since('_max_landed_at') }}
    {% endif %}

),

final as (

    select
        title_key,
        kind,
        source_id,
        title,
        original_title,
        original_language,
        status,
        start_date,
        end_date,
        (to_char(start_date, 'YYYYMMDD'))::integer as start_date_key,
        release_year,
        start_date_state,
        has_inverted_dates,
        runtime_minutes,
        budget_usd,
        revenue_usd,
        vote_average,
        vote_count,
        popularity,
        number_of_seasons,
        rating_band,
        collection_name,
        jsonb_array_length(genre_ids)::integer as genres_count,
        jsonb_array_length(production_companies)::integer as companies_count,
        jsonb_array_length(cast_credits)::integer as cast_count,
        jsonb_array_length(crew_credits)::integer as crew_count,
        _event_id,
        _landed_at,
        _landed_at as _max_landed_at

    from titles

)

select * from final
