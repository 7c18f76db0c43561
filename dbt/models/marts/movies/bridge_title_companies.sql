-- Title ↔ production company (many-to-many): one row per company of each title.

select
    title_key,
    company_id

from {{ ref('int_movies__title_companies') }}
