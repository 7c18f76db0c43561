"""The local stack: Kafka (KRaft), PostgreSQL and Airflow on loopback, no Docker engine.

Every service keeps its data, logs, pidfiles and generated configuration under
``settings.home`` (``STREAMMART_HOME``, default ``<project>/.stack``), so the stack
can be wiped with one ``rm -rf`` (``python -m stack stop --purge``).

Entry points other code uses:

- :func:`stack.cli.main` — ``python -m stack start|stop|status|logs|env``
- :func:`stack.airflow.airflow_env` / :func:`stack.airflow.run_airflow` — run any
  ``airflow`` CLI command against the stack's metadata database
- :func:`stack.airflow.migrate_metadata_db` — only the metadata DB, no Airflow processes
- :func:`stack.services.ensure_running` — start what is missing and wait until ready
"""
