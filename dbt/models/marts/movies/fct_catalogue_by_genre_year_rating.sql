-- Catalogue facts per genre, release year, rating band and kind: how many titles,
-- their money, length, votes and popularity. A title with several genres counts in
-- each of them (sum titles_count over genres and it exceeds the catalogue).
-- Titles without a known release date have no year and are not here: fct_titles
-- holds them (start_date is null).
-- Money figures cover the titles whose budget or revenue is known (the export's 0
-- is unknown); *_titles_count says how many that is.

with titles as (

    select * from {{ ref('fct_titles') }}
    where release_year is not null

),

title_genres as (

    select
        bridge.genre_id,
        titles.*

    from titles
    inner join {{ ref('bridge_title_genres') }} as bridge
        on titles.title_key = bridge.title_key

),

final as (

    select
        title_genres.genre_id,
        genres.genre_name,
        title_genres.release_year,
        title_genres.rating_band,
        title_genres.kind,
        count(*) as titles_count,
        count(budget_usd) as budgeted_titles_count,
        coalesce(sum(budget_usd), 0)::bigint as total_budget_usd,
        count(revenue_usd) as earning_titles_count,
        coalesce(sum(revenue_usd), 0)::bigint as total_revenue_usd,
        round(avg(runtime_minutes), 1)::numeric(6, 1) as avg_runtime_minutes,
        round(avg(vote_average) filter (where vote_count > 0)::numeric, 2)::numeric(4, 2) as avg_vote_average,
        sum(vote_count)::bigint as total_votes,
        round(avg(popularity)::numeric, 3)::numeric(12, 3) as avg_popularity

    from title_genres
    inner join {{ ref('dim_genres') }} as genres
        on title_genres.genre_id = genres.genre_id
    group by 1, 2, 3, 4, 5

)

select * from final
