{#
    GRANT USAGE on a schema to a role, as an on-run-end hook.

    Model grants (+grants) only cover the relations; without USAGE on the schema the
    role still cannot read them. The statement is skipped when the schema or the
    role does not exist yet (first run of a partial selection, a database without
    the reader role) and outside run/build, because `source freshness` runs the
    project hooks too.
#}
{% macro grant_schema_usage(schema_name, role_name) %}
    {% if execute and flags.WHICH in ('run', 'build') %}
        do $grant$
        begin
            if exists (select 1 from pg_namespace where nspname = '{{ schema_name }}')
               and exists (select 1 from pg_roles where rolname = '{{ role_name }}') then
                execute format('grant usage on schema %I to %I', '{{ schema_name }}', '{{ role_name }}');
            end if;
        end
        $grant$;
    {% else %}
        select 1
    {% endif %}
{% endmacro %}
