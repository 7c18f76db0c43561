-- Each related drug is mentioned in PubMed, and in no clinical trial, by at least one
-- journal that also mentions the drug it is listed for.

select related.atccode, related.related_atccode
from {{ ref('fct_drug_pubmed_only_related_drugs') }} as related
where not exists (
    select 1
    from {{ ref('fct_drug_journal_mentions') }} as drug
    inner join {{ ref('fct_drug_journal_mentions') }} as other
        on drug.journal = other.journal
    where drug.atccode = related.atccode
        and other.atccode = related.related_atccode
        and other.pubmed_mentions_count > 0
        and other.clinical_trial_mentions_count = 0
)
