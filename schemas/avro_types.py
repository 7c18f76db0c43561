"""What kind of value an Avro field type holds, seen through nullable unions.

Config validation (is ``event_time`` a timestamp?) and the producers' parsers
(which repair to apply) both ask; Avro spells a type many ways (``"long"``,
``{"type": "long", "logicalType": …}``, ``["null", …]``), so the answer is given once.
"""
from __future__ import annotations

from typing import Any

TIMESTAMP_TYPES = frozenset({"timestamp-millis", "timestamp-micros"})
_COMPLEX = frozenset({"record", "array", "map", "enum", "fixed"})
_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def without_null(avro_type: Any) -> tuple[Any, bool]:
    """(the type, nullable): ``["null", T]`` is T, nullable; a wider union stays a union."""
    if isinstance(avro_type, list):
        branches = [t for t in avro_type if t != "null"]
        nullable = len(branches) < len(avro_type)
        return (branches[0] if len(branches) == 1 else branches), nullable
    return avro_type, False


def kind(avro_type: Any) -> str:
    """``timestamp``, ``date``, ``decimal``, ``array``, ``record``, ``map``, ``enum``, ``union`` or a primitive.

    A reference to a named type defined elsewhere in the schema is ``named``.
    """
    avro_type, _ = without_null(avro_type)
    if isinstance(avro_type, list):
        return "union"
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical in TIMESTAMP_TYPES:
            return "timestamp"
        if logical in ("date", "decimal"):
            return logical
        inner = avro_type["type"]
        return inner if inner in _COMPLEX else kind(inner)
    return avro_type if avro_type in _PRIMITIVES else "named"
