-- fct_catalogue_by_genre_year_rating agrees with fct_titles and the genre bridge:
-- per kind and year, the titles counted over all genres are the (title, genre)
-- pairs of dated titles, and the money and votes add up the same.

with from_titles as (

    select
        titles.kind,
        titles.release_year,
        count(*) as pairs,
        coalesce(sum(titles.budget_usd), 0) as budget,
        coalesce(sum(titles.revenue_usd), 0) as revenue,
        sum(titles.vote_count) as votes

    from {{ ref('fct_titles') }} as titles
    inner join {{ ref('bridge_title_genres') }} as bridge
        on titles.title_key = bridge.title_key
    where titles.release_year is not null
    group by 1, 2

),

catalogue as (

    select
        kind,
        release_year,
        sum(titles_count) as pairs,
        sum(total_budget_usd) as budget,
        sum(total_revenue_usd) as revenue,
        sum(total_votes) as votes

    from {{ ref('fct_catalogue_by_genre_year_rating') }}
    group by 1, 2

)

{{ disagreeing_rows('from_titles', 'catalogue', ['kind', 'release_year'], ['pairs', 'budget', 'revenue', 'votes']) }}
