-- Every landed version of every PubMed article (pubmed.csv and pubmed.json), cleaned by the
-- publications' shared rules (cleaned_publication_columns); no deduplication.

select
    {{ cleaned_publication_columns('pubmed_id', 'title') }},
    {{ landing_metadata_columns() }}

from {{ source('drug_mentions', 'drug_mentions__pubmed') }}
