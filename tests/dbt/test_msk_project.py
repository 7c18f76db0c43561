"""The msk part of the dbt project, parsed offline: layers named for the medallion, rules declared
beside the models they guard, marts under contract, the quarantine kept as history."""
from __future__ import annotations

from typing import Any

import pytest

from tests.dbt.test_dbt_project import _node, manifest  # noqa: F401  (fixture)

RULE_KINDS = {"required", "matches", "parent", "accepted_values", "range", "date_order"}
MEDALLION = {"base_": "landing", "stg_": "standard", "int_": "enterprise", "fct_": "enterprise",
             "dim_": "enterprise", "fs_": "feature_store"}


def msk_models(manifest: Any) -> list[Any]:  # noqa: F811
    return [n for n in manifest.nodes.values() if n.resource_type == "model" and "msk" in n.name]


def test_every_msk_model_says_its_medallion_layer(manifest: Any) -> None:  # noqa: F811
    models = msk_models(manifest)
    assert len(models) > 20
    for node in models:
        prefix = node.name.split("msk")[0]
        expected = "feature_store" if node.name == "int_msk__patient_features" else MEDALLION[prefix]
        assert node.config.meta.get("medallion") == expected, node.name


def test_quarantine_rules_are_declared_beside_the_checked_models(manifest: Any) -> None:  # noqa: F811
    checked = [n for n in msk_models(manifest) if n.name.endswith("_checked")]
    assert len(checked) == 6
    kinds = set()
    for node in checked:
        rules = node.config.meta["quarantine_rules"]
        assert rules, node.name
        kinds |= {rule["kind"] for rule in rules}
        parents = {f"model.streammart.{rule['to']}" for rule in rules if rule["kind"] == "parent"}
        assert parents <= set(node.depends_on.nodes), f"{node.name}: a parent rule's model is not a dependency"
    assert kinds == RULE_KINDS


@pytest.mark.parametrize("name", ["fct_msk__referrals", "fct_msk__encounters", "fct_msk__adverse_events"])
def test_msk_facts_are_incremental_under_contract(manifest: Any, name: str) -> None:  # noqa: F811
    node = _node(manifest, name)
    assert node.config.materialized == "incremental" and node.config.incremental_strategy == "merge"
    assert node.config.contract.enforced is True and node.config.grants == {"select": ["reader"]}
    assert all(column.data_type for column in node.columns.values())


def test_the_quarantine_is_history_a_full_refresh_keeps(manifest: Any) -> None:  # noqa: F811
    node = _node(manifest, "fct_quarantined_rows")
    assert node.config.full_refresh is False
    assert node.config.contract.enforced is True
    assert {"rule", "reason", "_topic", "_partition", "_offset", "promoted_at"} <= set(node.columns)


def test_snapshots_version_providers_and_patient_features(manifest: Any) -> None:  # noqa: F811
    snapshots = {n.name: n for n in manifest.nodes.values() if n.resource_type == "snapshot"}
    assert snapshots["snap_msk__providers"].config.strategy == "timestamp"
    assert snapshots["snap_msk__patient_features"].config.strategy == "check"


def test_parsing_has_unit_tests(manifest: Any) -> None:  # noqa: F811
    tested = {test.model for test in manifest.unit_tests.values()}
    assert {"base_msk__patients", "base_msk__encounters", "stg_msk__network_providers"} <= tested
