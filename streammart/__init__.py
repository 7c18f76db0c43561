"""Shared core of streammart: connection settings, the pipeline config, the dbt cycle."""
