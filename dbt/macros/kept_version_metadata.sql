{#
    The landing metadata a stg_ model keeps of the version it selected: how many
    versions landed, which event it was, its Kafka position and the file:line or
    page it was read from (where a quarantine points to) and when it happened and landed. For the select list after
    rank_versions(); the base_ model selected every landing column.
#}
{% macro kept_version_metadata() -%}
    versions_count,
        _event_id,
        _topic,
        _partition,
        _offset,
        _source_position,
        _event_time,
        _landed_at
{%- endmacro %}
