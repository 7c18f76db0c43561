-- A mention is a whole word: the character before and after the drug's name in the
-- title is not a letter, digit or underscore ('norepinephrine' is not EPINEPHRINE).

select atccode, publication_kind, publication_id, title
from {{ ref('fct_drug_mentions') }}
where not exists (
    select 1
    from regexp_matches(title, '(^|[^[:alnum:]_])' || drug_name || '($|[^[:alnum:]_])', 'gi')
)
