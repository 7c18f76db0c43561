"""Names a pipeline config may not use: refused when it is loaded, not found out in Postgres.

Postgres cuts identifiers at 63 bytes and ``<domain>__<entity>`` can be spelled
two ways, so two topics could land in one raw table; a contract field named like
a metadata column would make a raw table with two columns of one name.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from schemas.registry import SCHEMA_DIR, load_registry
from streammart import pipeline as pipeline_module
from streammart.contract import (
    LANDED_AT,
    MAX_RAW_TABLE_BYTES,
    OFFSET,
    POSTGRES_IDENTIFIER_BYTES,
    STAGING_PREFIX,
    postgres_identifier,
    qualified,
    raw_table_name,
    shared_table_problems,
    topic_name,
)
from streammart.pipeline import PipelineConfigError, load_pipeline


def orders_source(name: str, domain: str, entity: str, schema: str = "retail.orders.v1") -> dict[str, Any]:
    return {"name": name, "domain": domain, "entity": entity, "schema": schema, "format": "csv",
            "path": "orders.csv", "key": ["order_id"]}


def write_config(tmp_path: Path, *sources: dict[str, Any]) -> Path:
    path = tmp_path / "pipeline.yml"
    path.write_text(json.dumps({"sources": list(sources)}))
    return path


@pytest.fixture
def contracts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``contracts(name, fields)`` adds a contract to a registry of this test's own (the shipped ones included)."""
    directory = tmp_path / "schemas"
    directory.mkdir()
    for shipped in SCHEMA_DIR.glob("*.avsc"):
        (directory / shipped.name).write_text(shipped.read_text())
    monkeypatch.setattr(pipeline_module, "load_registry", lambda: load_registry(directory))

    def add(name: str, fields: list[dict[str, Any]]) -> None:
        domain, entity, _ = name.split(".")
        (directory / f"{name}.avsc").write_text(json.dumps(
            {"type": "record", "name": entity.title(), "namespace": f"test.{domain}.{name.rsplit('.', 1)[1]}",
             "fields": fields}))
    return add


def test_two_spellings_of_one_raw_table_are_refused_naming_both_sources(tmp_path):
    config = write_config(tmp_path, orders_source("first", "shop__eu", "orders"),
                          orders_source("second", "shop", "eu__orders"))
    with pytest.raises(PipelineConfigError) as refused:
        load_pipeline(config)
    message = str(refused.value)
    assert "source 'first' (domain 'shop__eu', entity 'orders', topic shop__eu.orders.v1)" in message
    assert "source 'second' (domain 'shop', entity 'eu__orders', topic shop.eu__orders.v1)" in message
    assert f"one raw table {qualified('shop__eu__orders')}" in message


def test_a_trailing_and_a_leading_underscore_spell_one_table_too():
    """``a_`` + ``b`` and ``a`` + ``_b`` are both ``a___b``, whatever the config validator lets through."""
    sources = [SimpleNamespace(name=name, domain=domain, entity=entity, topic=topic_name(domain, entity, 1),
                               raw_table=raw_table_name(domain, entity))
               for name, domain, entity in (("first", "a_", "b"), ("second", "a", "_b"))]
    [problem] = shared_table_problems(sources)
    assert "source 'first' (domain 'a_', entity 'b', topic a_.b.v1)" in problem
    assert "source 'second' (domain 'a', entity '_b', topic a._b.v1)" in problem


def test_raw_tables_that_postgres_cuts_to_one_name_are_refused(tmp_path):
    domain, common = "d" * 30, "e" * 40
    first, second = (orders_source(n, domain, common + suffix) for n, suffix in (("long_a", "a"), ("long_b", "b")))
    assert postgres_identifier(f"{domain}__{common}a") == postgres_identifier(f"{domain}__{common}b")
    with pytest.raises(PipelineConfigError) as refused:
        load_pipeline(write_config(tmp_path, first, second))
    message = str(refused.value)
    assert "source 'long_a'" in message and "source 'long_b'" in message and "would land in one raw table" in message
    assert f"is {len(domain) + 2 + len(common) + 1} bytes" in message


def test_a_raw_table_whose_staging_table_postgres_would_cut_is_refused(tmp_path):
    fits = orders_source("fits", "d", "e" * (MAX_RAW_TABLE_BYTES - 3))
    assert len(load_pipeline(write_config(tmp_path, fits)).source("fits").raw_table) == MAX_RAW_TABLE_BYTES

    too_long = orders_source("too_long", "d", "e" * (MAX_RAW_TABLE_BYTES - 2))
    with pytest.raises(PipelineConfigError) as refused:
        load_pipeline(write_config(tmp_path, too_long))
    message = str(refused.value)
    assert f"source 'too_long' (domain 'd', entity '{'e' * (MAX_RAW_TABLE_BYTES - 2)}'" in message
    assert f"is {MAX_RAW_TABLE_BYTES + 1} bytes" in message and f"{POSTGRES_IDENTIFIER_BYTES}-byte" in message
    assert repr(STAGING_PREFIX) in message


def test_sources_sharing_a_topic_and_its_contract_are_accepted(tmp_path):
    config = load_pipeline(write_config(tmp_path, orders_source("csv_export", "shop", "orders"),
                                        orders_source("json_export", "shop", "orders")))
    assert list(config.topics()) == ["shop.orders.v1"]


def test_one_topic_published_under_two_contracts_is_refused(tmp_path):
    customers = {**orders_source("customers", "shop", "orders", "retail.customers.v1"), "key": ["customer_id"]}
    with pytest.raises(PipelineConfigError, match=r"sources 'orders', 'customers' publish topic shop\.orders\.v1 "
                                                  r"with different `schema` \(retail\.customers\.v1, "
                                                  r"retail\.orders\.v1\)"):
        load_pipeline(write_config(tmp_path, orders_source("orders", "shop", "orders"), customers))


def test_two_major_versions_cannot_share_the_raw_table(tmp_path, contracts):
    contracts("retail.orders.v2", [{"name": "order_id", "type": "string"}, {"name": "total", "type": "double"}])
    config = write_config(tmp_path, orders_source("v1", "shop", "orders"),
                          orders_source("v2", "shop", "orders", "retail.orders.v2"))
    with pytest.raises(PipelineConfigError, match="topic shop.orders.v1.*topic shop.orders.v2.* would land in one"):
        load_pipeline(config)


def test_a_contract_field_named_like_landing_metadata_is_refused_naming_source_key_and_field(tmp_path, contracts):
    contracts("shop.items.v1", [{"name": "item_id", "type": "string"}, {"name": OFFSET.name, "type": "long"},
                                {"name": LANDED_AT.name, "type": "string"}])
    source = {**orders_source("items", "shop", "items", "shop.items.v1"), "key": ["item_id"]}
    with pytest.raises(PipelineConfigError) as refused:
        load_pipeline(write_config(tmp_path, source))
    message = str(refused.value)
    for field in (OFFSET.name, LANDED_AT.name):
        assert f"source 'items': `schema` shop.items.v1 has field {field!r}, which is a landing metadata column" \
            in message
