"""Avro contracts shared by producers and stream processors.

The ``*.avsc`` files in this folder are the contract; ``registry`` loads them,
``wire`` frames encoded values, ``postgres_types`` maps them to raw-table columns.
"""
from schemas.registry import Schema, SchemaRegistry, load_registry

__all__ = ["Schema", "SchemaRegistry", "load_registry"]
