-- The funnel only narrows: a week and doctor cannot have more confirmed than booked
-- appointments, more completed plus no-shows than confirmed ones, or more cancelled
-- than booked ones; and every rate lies between 0 and 1.

select *
from {{ ref('fct_appointment_funnel_weekly') }}
where confirmed_count > booked_count
    or completed_count + no_show_count > confirmed_count
    or cancelled_count > booked_count
    or completed_count + no_show_count + cancelled_count > booked_count
    or no_show_rate not between 0 and 1
    or cancellation_rate not between 0 and 1
