{#
    Every landed version of a natural key, ranked newest first (version_rank = 1
    is the latest) and counted (versions_count).

    Latest = newest event time, then the later landing, then the later Kafka
    position: one key always lives in one partition, so offsets are comparable.
#}
{% macro rank_versions(relation, key) %}

    select
        *,
        row_number() over (
            partition by {{ key }}
            order by
                _event_time desc nulls last,
                _landed_at desc,
                _offset desc nulls last,
                _partition desc nulls last
        ) as version_rank,
        count(*) over (partition by {{ key }}) as versions_count

    from {{ relation }}

{% endmacro %}
