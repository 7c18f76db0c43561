import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from schemas import load_registry
from schemas.postgres_types import columns, sql_type
from schemas.registry import SCHEMA_DIR, SchemaError
from schemas.wire import MAGIC, WireFormatError, decode, encode

ORDER = {"order_id": "O1", "customer_id": "C1", "product_id": None,
         "order_ts": datetime(2024, 6, 3, 10, 0, tzinfo=timezone.utc), "quantity": 2,
         "unit_price": Decimal("3.50"), "amount": Decimal("7.00"), "currency": "USD", "status": "paid"}


def test_single_object_round_trip_carries_the_fingerprint():
    registry = load_registry()
    schema = registry.get("retail.orders.v1")
    data = encode(schema, ORDER)
    assert data[:2] == MAGIC and data[2:10] == schema.fingerprint
    decoded_schema, record = decode(data, registry)
    assert decoded_schema is schema
    assert record == ORDER


def test_fingerprint_is_crc64_avro_of_canonical_form():
    # Java's SchemaNormalization gives 0x7275d51a3f395c8f for "int"; single-object
    # encoding writes it little-endian.
    from fastavro.schema import fingerprint
    assert bytes.fromhex(fingerprint('"int"', "CRC-64-AVRO")) == (0x7275D51A3F395C8F).to_bytes(8, "little")


@pytest.mark.parametrize("data", [b"", b"\x00\x01", b"\xc3\x01" + b"\x00" * 8 + b"x", b"{\"json\": 1}"])
def test_undecodable_bytes_raise_wire_format_error(data):
    with pytest.raises(WireFormatError):
        decode(data, load_registry())


def test_truncated_body_raises_wire_format_error():
    registry = load_registry()
    data = encode(registry.get("retail.orders.v1"), ORDER)
    with pytest.raises(WireFormatError):
        decode(data[:15], registry)


def test_avro_types_map_to_postgres_types():
    assert sql_type({"type": "long", "logicalType": "timestamp-millis"}) == ("timestamptz", False)
    assert sql_type({"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}) == ("numeric(12,2)", False)
    assert sql_type(["null", {"type": "int", "logicalType": "date"}]) == ("date", True)
    assert sql_type({"type": "array", "items": "string"}) == ("jsonb", False)
    assert sql_type(["null", "string", "long"]) == ("jsonb", True)
    names = [c.name for c in columns(load_registry().get("retail.orders.v1").fields)]
    assert names[0] == "order_id" and "amount" in names


def test_events_written_with_an_earlier_version_decode_as_the_current_one(tmp_path):
    original = json.loads((SCHEMA_DIR / "retail.orders.v1.avsc").read_text())
    evolved = {**original, "fields": [*original["fields"],
                                      {"name": "channel", "type": ["null", "string"], "default": None}]}
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "retail.orders.v1.2024-06.avsc").write_text(json.dumps(original))
    (tmp_path / "retail.orders.v1.avsc").write_text(json.dumps(evolved))
    registry = load_registry(tmp_path)
    old = registry.by_fingerprint(load_registry().get("retail.orders.v1").fingerprint)
    new = registry.get("retail.orders.v1")
    assert old is not None and old is not new and old.name == new.name

    writer, record = decode(encode(old, ORDER), registry)
    assert writer is old
    assert record == {**ORDER, "channel": None}
    writer, record = decode(encode(new, {**ORDER, "channel": "web"}), registry)
    assert writer is new and record["channel"] == "web"


def test_history_of_a_missing_contract_is_an_error(tmp_path):
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "retail.gone.v1.old.avsc").write_text(
        '{"type": "record", "name": "Gone", "fields": [{"name": "id", "type": "string"}]}')
    with pytest.raises(SchemaError, match="no longer exist: retail.gone.v1"):
        load_registry(tmp_path)


def test_every_committed_version_of_a_contract_still_decodes(tmp_path):
    """Guard for evolution: changing an .avsc without keeping its old version in
    schemas/history/ would turn events already written with it into dead letters."""
    import subprocess

    from schemas.registry import parse_schema_file
    from streammart.settings import PROJECT_ROOT

    if subprocess.run(["git", "rev-parse", "--git-dir"], cwd=PROJECT_ROOT, capture_output=True).returncode:
        pytest.skip("not a git checkout")
    registry = load_registry()
    for schema in registry:
        path = f"schemas/{schema.name}.avsc"
        commits = subprocess.run(["git", "log", "--format=%H", "--", path], cwd=PROJECT_ROOT,
                                 capture_output=True, text=True, check=True).stdout.split()
        for commit in commits:
            shown = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=PROJECT_ROOT, capture_output=True,
                                   text=True)
            if shown.returncode:  # the commit deleted or renamed the file
                continue
            copy = tmp_path / f"{schema.name}.avsc"
            copy.write_text(shown.stdout)
            version = parse_schema_file(copy)
            assert registry.by_fingerprint(version.fingerprint) is not None, (
                f"{path} as of {commit[:10]} is no longer known: copy it to "
                f"schemas/history/{schema.name}.<label>.avsc")


def test_two_contracts_with_one_fingerprint_are_refused_naming_both_files(tmp_path):
    """A copy of a contract for a second topic would have its events read as the first's."""
    original = (SCHEMA_DIR / "retail.orders.v1.avsc").read_text()
    (tmp_path / "retail.orders.v1.avsc").write_text(original)
    (tmp_path / "retail.returns.v1.avsc").write_text(original.replace('"doc": "natural key"', '"doc": "copied"'))
    with pytest.raises(SchemaError) as refused:
        load_registry(tmp_path)
    message = str(refused.value)
    assert str(tmp_path / "retail.orders.v1.avsc") in message and str(tmp_path / "retail.returns.v1.avsc") in message
    assert "own record `name` or `namespace` (for instance \"namespace\": \"streammart.retail.returns.v1\")" in message

    renamed = json.loads(original)
    (tmp_path / "retail.returns.v1.avsc").write_text(json.dumps({**renamed, "namespace": "streammart.returns.v1"}))
    registry = load_registry(tmp_path)
    assert registry.get("retail.returns.v1").fingerprint != registry.get("retail.orders.v1").fingerprint


def test_an_earlier_version_may_share_the_fingerprint_of_its_own_contract(tmp_path):
    original = (SCHEMA_DIR / "retail.orders.v1.avsc").read_text()
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "retail.orders.v1.docs-only.avsc").write_text(original.replace("natural key", "key"))
    (tmp_path / "retail.orders.v1.avsc").write_text(original)
    registry = load_registry(tmp_path)
    assert registry.by_fingerprint(registry.get("retail.orders.v1").fingerprint) is registry.get("retail.orders.v1")


def test_an_earlier_version_of_another_contract_may_not_share_a_fingerprint(tmp_path):
    original = (SCHEMA_DIR / "retail.orders.v1.avsc").read_text()
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "retail.returns.v1.first.avsc").write_text(original)
    (tmp_path / "retail.returns.v1.avsc").write_text(original.replace('"Order"', '"Return"'))
    (tmp_path / "retail.orders.v1.avsc").write_text(original)
    with pytest.raises(SchemaError, match=r"retail\.orders\.v1\.avsc \(retail\.orders\.v1\) and .*history/"
                                          r"retail\.returns\.v1\.first\.avsc \(retail\.returns\.v1\)"):
        load_registry(tmp_path)
