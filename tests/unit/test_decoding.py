import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from schemas import load_registry
from schemas.postgres_types import Column
from schemas.wire import encode
from stream_processors import raw_tables
from stream_processors.app import landing_targets
from stream_processors.decoding import DeadLetter, decode_row
from stream_processors.landing import Batch, copy_type
from stream_processors.raw_tables import RawTable, create_indexes_sql, create_table_sql, evolve_sql
from streammart.contract import (
    EVENT_ID,
    EVENT_TIME,
    KEY,
    LANDED_AT,
    METADATA_COLUMNS,
    OFFSET,
    PARTITION,
    PRODUCED_AT,
    RAW_SCHEMA,
    SCHEMA_FINGERPRINT,
    SOURCE_POSITION,
    TOPIC,
    WRITTEN_METADATA,
    qualified,
)
from streammart.pipeline import load_pipeline

ORDER = {"order_id": "O1", "customer_id": "C1", "product_id": None,
         "order_ts": datetime(2024, 6, 3, 10, 0, tzinfo=timezone.utc), "quantity": 2,
         "unit_price": Decimal("3.50"), "amount": Decimal("7.00"), "currency": "USD", "status": "paid"}


@dataclass
class Message:
    value: bytes
    topic: str = "retail.orders.v1"
    partition: int = 3
    offset: int = 41
    key: bytes | None = b"O1"
    timestamp: float = 1717400000.0
    headers: list = field(default_factory=lambda: [("event_id", b"abc"), ("source", b"retail_orders"),
                                                    ("source_position", b"orders.csv:7")])


def orders_target():
    return landing_targets(load_pipeline())["retail.orders.v1"]


def test_a_valid_event_becomes_a_row_in_copy_column_order():
    registry = load_registry()
    target = orders_target()
    row = decode_row(Message(encode(registry.get("retail.orders.v1"), ORDER)), target, registry)
    columns = [c.name for c in target.table.copy_columns]
    values = dict(zip(columns, row))
    assert values["order_id"] == "O1" and values["amount"] == Decimal("7.00")
    assert values[EVENT_ID.name] == "abc"
    assert [values[c.name] for c in (TOPIC, PARTITION, OFFSET, KEY)] == ["retail.orders.v1", 3, 41, "O1"]
    assert values[EVENT_TIME.name] == ORDER["order_ts"]
    assert values[PRODUCED_AT.name] == datetime.fromtimestamp(1717400000.0, timezone.utc)
    assert values[SCHEMA_FINGERPRINT.name] == registry.get("retail.orders.v1").fingerprint_hex
    assert values[SOURCE_POSITION.name] == "orders.csv:7"


def test_an_event_from_elsewhere_lands_without_a_source_position_and_with_a_content_id():
    registry = load_registry()
    target = orders_target()
    value = encode(registry.get("retail.orders.v1"), ORDER)
    values = dict(zip([c.name for c in target.table.copy_columns],
                      decode_row(Message(value, headers=[]), target, registry)))
    assert values[SOURCE_POSITION.name] is None
    assert values[EVENT_ID.name] == hashlib.sha256(value).hexdigest()[:32]


def test_metadata_land_under_their_own_names_whatever_the_column_order(monkeypatch):
    """Values are matched to columns by name: reordering the metadata cannot shift one into another."""
    registry = load_registry()
    shuffled = tuple(reversed(raw_tables.WRITTEN_METADATA))
    monkeypatch.setattr(raw_tables, "WRITTEN_METADATA", shuffled)
    target = orders_target()
    assert [c.name for c in target.table.copy_columns][-len(shuffled):] == [c.name for c in shuffled]
    message = Message(encode(registry.get("retail.orders.v1"), ORDER), partition=7, offset=1234, key=b"K-1")
    values = dict(zip([c.name for c in target.table.copy_columns], decode_row(message, target, registry)))
    assert values == {**ORDER,
                      EVENT_ID.name: "abc", TOPIC.name: "retail.orders.v1", PARTITION.name: 7, OFFSET.name: 1234,
                      KEY.name: "K-1", SCHEMA_FINGERPRINT.name: registry.get("retail.orders.v1").fingerprint_hex,
                      EVENT_TIME.name: ORDER["order_ts"],
                      PRODUCED_AT.name: datetime.fromtimestamp(1717400000.0, timezone.utc),
                      SOURCE_POSITION.name: "orders.csv:7"}


def test_every_written_metadata_column_gets_a_value():
    registry = load_registry()
    row = decode_row(Message(encode(registry.get("retail.orders.v1"), ORDER)), orders_target(), registry)
    assert len(row) == len(orders_target().table.copy_columns)
    assert {c.name for c in WRITTEN_METADATA} | {LANDED_AT.name} == {c.name for c in METADATA_COLUMNS}


def test_a_contract_field_named_like_metadata_is_refused_by_the_raw_table():
    with pytest.raises(ValueError, match=OFFSET.name):
        RawTable("t__x", [Column("id", "text", False), Column(OFFSET.name, "bigint", False)])


def test_without_event_id_header_the_id_is_a_hash_of_the_bytes():
    registry = load_registry()
    value = encode(registry.get("retail.orders.v1"), ORDER)
    first = decode_row(Message(value, headers=[]), orders_target(), registry)
    again = decode_row(Message(value, headers=[], offset=99), orders_target(), registry)
    names = [c.name for c in orders_target().table.copy_columns]
    assert first[names.index(EVENT_ID.name)] == again[names.index(EVENT_ID.name)]
    assert len(first[names.index(EVENT_ID.name)]) == 32


def test_undecodable_or_foreign_events_become_dead_letters():
    registry = load_registry()
    garbage = decode_row(Message(b"not avro"), orders_target(), registry)
    assert isinstance(garbage, DeadLetter) and "C3 01" in garbage.error
    assert garbage.value == b"not avro" and garbage.headers["source"] == "retail_orders"
    customer = {"customer_id": "C1", "name": "Ann", "email": None, "country": None, "signup_date": None,
                "updated_at": ORDER["order_ts"]}
    foreign = decode_row(Message(encode(registry.get("retail.customers.v1"), customer)), orders_target(), registry)
    assert isinstance(foreign, DeadLetter) and "does not belong to topic" in foreign.error


def test_batch_tracks_the_next_offset_per_partition():
    batch = Batch()
    for partition, offset in [(0, 5), (0, 3), (1, 9)]:
        batch.track("t", partition, offset)
    assert batch.next_offsets == {("t", 0): 6, ("t", 1): 10}


def test_copy_types_and_ddl():
    assert copy_type("numeric(12,2)") == "numeric"
    assert copy_type("integer") == "int4" and copy_type("timestamptz") == "timestamptz"
    table = orders_target().table
    ddl = create_table_sql(table).as_string(None)
    assert f'"{RAW_SCHEMA}"."retail__orders"' in ddl
    assert '"amount" numeric(14,2) NOT NULL' in ddl and '"product_id" text,' in ddl
    assert f'UNIQUE ("{TOPIC.name}", "{PARTITION.name}", "{OFFSET.name}")' in ddl
    assert f'"{LANDED_AT.name}" timestamptz NOT NULL DEFAULT clock_timestamp()' in ddl
    added = [s.as_string(None) for s in evolve_sql(table, {c.name for c in table.copy_columns} - {"product_id"})]
    assert added == [f'ALTER TABLE "{RAW_SCHEMA}"."retail__orders" ADD COLUMN IF NOT EXISTS "product_id" text']


def test_raw_indexes_cover_landing_time_and_the_natural_key_as_staging_reads_it():
    statements = [s.as_string(None) for s in create_indexes_sql(orders_target().table)]
    table = f'"{RAW_SCHEMA}"."retail__orders"'
    assert statements == [
        f'CREATE INDEX IF NOT EXISTS "retail__orders__landed_at" ON {table} ("{LANDED_AT.name}")',
        f'CREATE INDEX IF NOT EXISTS "retail__orders__key" ON {table} (btrim("order_id"))',
    ]
    keyless = RawTable("t__x", [Column("id", "integer", False)])
    assert len(create_indexes_sql(keyless)) == 1
    integer_key = RawTable("t__x", [Column("id", "integer", False)], ("id",))
    assert create_indexes_sql(integer_key)[1].as_string(None).endswith('("id")')  # only text keys are trimmed
    with pytest.raises(ValueError, match="not in the contract"):
        create_indexes_sql(RawTable("t__x", [Column("id", "text", False)], ("missing",)))


def test_landed_signal_collects_rows_until_taken():
    import json
    from types import SimpleNamespace

    from stream_processors.control import LandedSignal, landed_event, parse_landed

    signal = LandedSignal()
    assert signal.take() is None
    signal.add("retail__orders", 10)
    signal.add("retail__customers", 0)
    signal.add("retail__orders", 5)
    message = signal.take()
    assert json.loads(message)["by_table"] == {qualified("retail__orders"): 15}
    assert signal.take() is None
    assert landed_event(SimpleNamespace(value=lambda: message))["rows"] == 15
    assert parse_landed(b"not json") is None and parse_landed(b'{"tables": [], "rows": 0}') is None


def test_a_stale_landed_signal_does_not_fire_the_trigger():
    import json
    from datetime import timedelta
    from types import SimpleNamespace

    from stream_processors.control import STALE_AFTER, LandedSignal, landed_event

    signal = LandedSignal()
    signal.add("retail__orders", 2)
    message = SimpleNamespace(value=lambda value=signal.take(): value)
    sent = datetime.fromisoformat(json.loads(message.value())["at"])
    assert landed_event(message, now=sent + STALE_AFTER - timedelta(seconds=1))["rows"] == 2
    assert landed_event(message, now=sent + STALE_AFTER + timedelta(seconds=1)) is None
    undated = SimpleNamespace(value=lambda: b'{"tables": ["raw.retail__orders"], "rows": 1}')
    assert landed_event(undated)["rows"] == 1


def test_asset_events_name_the_tables_their_signals_named():
    from types import SimpleNamespace

    from stream_processors.control import tables_in_asset_events

    def event(payload):
        return SimpleNamespace(extra={"from_trigger": True, "payload": payload})

    orders = {"tables": ["raw.retail__orders"], "rows": 3}
    both = {"tables": ["raw.retail__customers", "raw.retail__orders"], "rows": 2}
    assert tables_in_asset_events({"streammart_raw_landed": [event(orders), event(both)]}) == [
        "raw.retail__customers", "raw.retail__orders"]
    # an event posted by hand names nothing: the run must look at every source
    by_hand = SimpleNamespace(extra={})
    assert tables_in_asset_events({"streammart_raw_landed": [event(orders), by_hand]}) == []
    assert tables_in_asset_events({"streammart_raw_landed": [event({"tables": [], "rows": 0})]}) == []
    assert tables_in_asset_events(None) == [] and tables_in_asset_events({}) == []


def test_a_date_as_event_time_lands_as_midnight_in_the_source_time_zone():
    """Defect 6: `event_time` naming a date field left `_event_time` NULL without a word."""
    from dataclasses import replace
    from datetime import date
    from zoneinfo import ZoneInfo

    registry = load_registry()
    customers = landing_targets(load_pipeline())["retail.customers.v1"]
    target = replace(customers, event_time_field="signup_date", event_time_zone=ZoneInfo("Europe/Paris"))
    customer = {"customer_id": "C1", "name": "Ann", "email": None, "country": "FR",
                "signup_date": date(2024, 7, 1), "updated_at": datetime(2024, 7, 2, tzinfo=timezone.utc)}
    row = decode_row(Message(encode(registry.get("retail.customers.v1"), customer), topic="retail.customers.v1"),
                     target, registry)
    event_time = dict(zip([c.name for c in target.table.copy_columns], row))["_event_time"]
    assert event_time == datetime(2024, 6, 30, 22, tzinfo=timezone.utc)
