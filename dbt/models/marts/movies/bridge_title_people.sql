-- Title ↔ person (many-to-many): one row per credit, cast or crew, with the part
-- played (character, billing order) or the job done (department, job).

select
    credit_key,
    title_key,
    person_id,
    credit_type,
    character_name,
    billing_order,
    department,
    job

from {{ ref('int_movies__title_credits') }}
