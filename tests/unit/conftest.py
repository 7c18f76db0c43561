"""Source configs for reader and parser tests, with the shipped contracts or a test contract."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from schemas.registry import load_registry, parse_schema_file
from streammart.pipeline import SourceConfig

# A contract with the field kinds the shipped ones lack: lists, a date, a nullable timestamp.
VISITS = {
    "type": "record", "name": "Visit", "namespace": "test.clinic.v1",
    "fields": [
        {"name": "visit_id", "type": "string"},
        {"name": "npis", "type": {"type": "array", "items": "string"}, "default": []},
        {"name": "scores", "type": ["null", {"type": "array", "items": "int"}], "default": None},
        {"name": "visit_date", "type": {"type": "int", "logicalType": "date"}},
        {"name": "seen_at", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}],
         "default": None},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}

MakeSource = Callable[..., SourceConfig]


@pytest.fixture
def make_source(tmp_path: Path) -> MakeSource:
    """``make_source(contract, **keys)``: a validated source config.

    ``contract`` is a shipped schema name or an Avro record definition (written
    to ``clinic.visits.v1.avsc`` under tmp_path).
    """

    def make(contract: str | dict[str, Any] = "retail.orders.v1", **keys: Any) -> SourceConfig:
        name = contract if isinstance(contract, str) else "clinic.visits.v1"
        domain, entity, _ = name.split(".")
        schema = load_registry().get(name) if isinstance(contract, str) else None
        first_field = (schema.definition if schema else contract)["fields"][0]["name"]
        config = SourceConfig.model_validate({
            "name": "test", "domain": domain, "entity": entity, "schema": name, "format": "csv",
            "path": str(tmp_path / "input.csv"), "key": [first_field], **keys})
        if schema is None:
            path = tmp_path / f"{name}.avsc"
            path.write_text(json.dumps(contract))
            config.__dict__["schema"] = parse_schema_file(path)  # what the cached property would hold
        return config

    return make
