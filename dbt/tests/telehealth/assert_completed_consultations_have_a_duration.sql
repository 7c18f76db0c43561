{{ config(severity='warn') }}

-- A completed consultation has a positive duration; only completed ones have one.

select appointment_id, status, duration_minutes
from {{ ref('fct_appointments') }}
where (is_completed and coalesce(duration_minutes, 0) <= 0)
    or (not is_completed and duration_minutes is not null)
