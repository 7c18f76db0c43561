-- Every accepted patient with the employer whose in-network list applies to them.
-- Patients without a known employer keep null employer columns.

with patients as (

    select * from {{ ref('int_msk__patients_checked') }}
    where not is_quarantined

),

employers as (

    select * from {{ ref('stg_msk__employers') }}

)

select
    patients.patient_id,
    patients.employer_id,
    employers.employer_name,
    patients._landed_at,
    greatest(patients._landed_at, employers._landed_at) as _max_landed_at

from patients
left join employers
    on patients.employer_id = employers.employer_id
