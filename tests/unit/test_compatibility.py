"""BACKWARD compatibility of a contract's versions: what the current version cannot read is refused."""
import copy
import json

import pytest

from schemas.compatibility import backward_problems
from schemas.registry import SchemaError, load_registry
from streammart.settings import PROJECT_ROOT

ORDERS = json.loads((PROJECT_ROOT / "schemas" / "retail.orders.v1.avsc").read_text())


def changed(change) -> dict:
    schema = copy.deepcopy(ORDERS)
    change(schema["fields"])
    return schema


def field(fields, name):
    return next(f for f in fields if f["name"] == name)


@pytest.mark.parametrize("change", [
    lambda f: f.append({"name": "channel", "type": ["null", "string"], "default": None}),
    lambda f: f.append({"name": "coupon", "type": "string", "default": ""}),
    lambda f: field(f, "quantity").update(type="long"),                       # promotion
    lambda f: field(f, "status").update(type=["null", "string"]),             # widened to nullable
    lambda f: f.remove(field(f, "product_id")),                               # optional (had a default)
], ids=["optional-field", "field-with-default", "int-to-long", "nullable", "optional-removed"])
def test_compatible_changes_pass(change):
    assert backward_problems(changed(change), ORDERS) == []


@pytest.mark.parametrize(("change", "problem"), [
    (lambda f: f.append({"name": "channel", "type": "string"}), "channel: field added without a default"),
    (lambda f: field(f, "quantity").update(type="string"), "quantity: type changed from int to string"),
    (lambda f: field(f, "order_ts").update(type={"type": "long", "logicalType": "timestamp-micros"}),
     "order_ts: logical type changed"),
    (lambda f: f.remove(field(f, "status")), "status: required field removed"),
    (lambda f: field(f, "amount")["type"].update(scale=3), "amount: decimal precision or scale changed"),
], ids=["required-added", "type-changed", "logical-changed", "required-removed", "decimal-scale"])
def test_incompatible_changes_name_the_field_and_the_rule(change, problem):
    problems = backward_problems(changed(change), ORDERS)
    assert any(p.startswith(problem) for p in problems), problems


def test_registry_refuses_a_current_version_that_cannot_read_its_history(tmp_path):
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "retail.orders.v1.2024-06.avsc").write_text(json.dumps(ORDERS))
    (tmp_path / "retail.orders.v1.avsc").write_text(json.dumps(changed(
        lambda f: field(f, "quantity").update(type="string"))))
    with pytest.raises(SchemaError) as refused:
        load_registry(tmp_path)
    message = str(refused.value)
    assert "cannot read events written with" in message and "(BACKWARD compatibility)" in message
    assert "quantity: type changed from int to string" in message and "retail.orders.v2.avsc" in message
