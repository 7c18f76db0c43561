-- Encounters per patient, month by month, across the programme: encounters,
-- patients seen and encounters per patient seen.

select
    encounter_month,
    sum(encounters_count)::bigint as encounters_count,
    count(*) as patients_count,
    (sum(encounters_count)::numeric / count(*))::numeric(8, 2) as encounters_per_patient

from {{ ref('fct_msk__patient_monthly_encounters') }}
group by encounter_month
