-- One row per (employer, NPI) of each employer's current in-network list: the
-- packed field unnested, blanks trimmed, empty entries dropped, duplicates folded.

with employers as (

    select * from {{ ref('stg_msk__employers') }}

),

unnested as (

    select distinct on (employers.employer_id, trim(listed.npi))
        employers.employer_id || ':' || trim(listed.npi) as network_provider_id,
        employers.employer_id,
        trim(listed.npi) as npi,
        listed.position as list_position,
        employers._event_id,
        employers._topic,
        employers._partition,
        employers._offset,
        employers._source_position,
        employers._event_time,
        employers._landed_at

    from employers
    cross join lateral jsonb_array_elements_text(employers.in_network_npis) with ordinality as listed (npi, position)
    where nullif(trim(listed.npi), '') is not null
    order by employers.employer_id, trim(listed.npi), listed.position

)

select * from unnested
