"""Shared core of streammart: settings, the pipeline config, the landing contract, topics, the dbt cycle.

Producers, stream processors, the stack, the DAGs and the dashboard import it; it
imports none of them (a unit test parses every module here to keep it so).
"""
