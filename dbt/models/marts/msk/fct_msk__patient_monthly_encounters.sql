-- Encounters per patient over time: one row per patient and calendar month with
-- encounters, the month's billed amount and the patient's running total.

with monthly as (

    select
        patient_id,
        encounter_month,
        count(*) as encounters_count,
        sum(amount) as billed_amount
    from {{ ref('fct_msk__encounters') }}
    group by patient_id, encounter_month

)

select
    patient_id,
    encounter_month,
    encounters_count,
    billed_amount::numeric(16, 2) as billed_amount,
    sum(encounters_count) over (
        partition by patient_id order by encounter_month
    )::bigint as cumulative_encounters_count

from monthly
