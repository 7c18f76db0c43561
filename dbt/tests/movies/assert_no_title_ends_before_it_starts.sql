-- A title's end date is never before its start date in the mart: the export's
-- inverted dates are dropped and flagged in staging.

select title_key, start_date, end_date
from {{ ref('fct_titles') }}
where end_date < start_date
   or (has_inverted_dates and end_date is not null)
