-- One row per title (kind, source id): its latest landed version, with the
-- date rules applied. Some series exports put the last air date before the first:
-- such an end date cannot be right, so end_date is null and has_inverted_dates
-- says why (the text stays in base_movies__titles and raw).

with ranked as (
{{ rank_versions(ref('base_movies__titles'), 'title_key') }}
),

latest as (

    select
        title_key,
        kind,
        source_id,
        title,
        original_title,
        original_language,
        overview,
        status,
        start_date,
        start_date_state,
        coalesce(end_date < start_date, false) as has_inverted_dates,
        case when end_date >= start_date or start_date is null then end_date end as end_date,
        end_date_state,
        extract(year from start_date)::integer as release_year,
        runtime_minutes,
        budget_usd,
        revenue_usd,
        vote_average,
        vote_count,
        popularity,
        number_of_seasons,
        {{ rating_band('vote_average', 'vote_count') }} as rating_band,
        collection_name,
        genre_ids,
        production_companies,
        cast_credits,
        crew_credits,
        versions_count,
        _event_id,
        _event_time,
        _landed_at

    from ranked
    where version_rank = 1

)

select * from latest
