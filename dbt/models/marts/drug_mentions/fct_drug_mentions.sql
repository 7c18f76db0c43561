-- The mentions graph, one edge per (drug, publication): which drug a PubMed article
-- or clinical trial names in its title, in which journal and when.
-- A table, rebuilt each cycle the drug mentions sources changed: a new drug has to be
-- looked for in every title and a new title checked against every drug.

select
    atccode,
    drug_name,
    publication_kind,
    publication_id,
    title,
    journal,
    published_on,
    _max_landed_at

from {{ ref('int_drug_mentions__mentions') }}
