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

select
    coalesce(from_titles.kind, catalogue.kind) as kind,
    coalesce(from_titles.release_year, catalogue.release_year) as release_year,
    from_titles.pairs as expected_pairs,
    catalogue.pairs,
    from_titles.budget as expected_budget,
    catalogue.budget

from from_titles
full outer join catalogue
    on from_titles.kind = catalogue.kind
    and from_titles.release_year = catalogue.release_year
where from_titles.kind is null
   or catalogue.kind is null
   or from_titles.pairs <> catalogue.pairs
   or from_titles.budget <> catalogue.budget
   or from_titles.revenue <> catalogue.revenue
   or from_titles.votes <> catalogue.votes
