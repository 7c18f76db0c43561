-- A drug is mentioned by a publication whose title holds the drug's name as a whole
-- word, in any case: 'Epinephrine' and 'EPINEPHRINE' mention EPINEPHRINE,
-- 'norepinephrine' does not. Publications without a title mention nothing.

with drugs as (

    select
        atccode,
        drug_name,
        -- the name as a literal inside a regular expression: every character that is
        -- not a letter, digit or space is escaped
        '\m' || regexp_replace(drug_name, '([^[:alnum:] ])', '\\\1', 'g') || '\M' as name_pattern,
        _landed_at

    from {{ ref('stg_drug_mentions__drugs') }}
    where drug_name is not null

),

publications as (

    select * from {{ ref('int_drug_mentions__publications') }}
    where title is not null

),

mentions as (

    select
        drugs.atccode,
        drugs.drug_name,
        publications.publication_kind,
        publications.publication_id,
        publications.title,
        publications.journal,
        publications.published_on,
        greatest(drugs._landed_at, publications._landed_at) as _max_landed_at

    from drugs
    inner join publications
        on publications.title ~* drugs.name_pattern

)

select * from mentions
