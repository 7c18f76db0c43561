-- Every title date the export wrote is read: text that is neither a date, "" nor
-- null would otherwise become a null date without anyone noticing.

select
    title_key,
    kind,
    source_id,
    start_date_state,
    end_date_state,
    _event_id

from {{ ref('base_movies__titles') }}
where start_date_state = 'unreadable' or end_date_state = 'unreadable'
