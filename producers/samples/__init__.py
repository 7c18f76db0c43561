"""Deterministic sample-data generators, one module per domain."""
