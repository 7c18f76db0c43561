-- PubMed articles and clinical trials as one list of publications: a trial's
-- scientific title plays the part of an article's title.

with pubmed as (

    select
        'pubmed' as publication_kind,
        pubmed_id as publication_id,
        title,
        journal,
        published_on,
        _landed_at

    from {{ ref('stg_drug_mentions__pubmed') }}

),

clinical_trials as (

    select
        'clinical_trial' as publication_kind,
        trial_id as publication_id,
        title,
        journal,
        published_on,
        _landed_at

    from {{ ref('stg_drug_mentions__clinical_trials') }}

)

select * from pubmed
union all
select * from clinical_trials
