-- An appointment is booked before its slot and confirmed between booking and slot.

select appointment_id, booked_at, confirmed_at, scheduled_at
from {{ ref('fct_appointments') }}
where booked_at > scheduled_at
    or confirmed_at < booked_at
    or confirmed_at > scheduled_at
