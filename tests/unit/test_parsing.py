from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from producers.parsing import FieldError, RecordParser
from schemas import load_registry

ORDER = {"order_id": "O1", "customer_id": "C1", "product_id": "P1", "order_ts": "2024-06-03 10:11:12",
         "quantity": "2", "unit_price": "$1,234.50", "amount": "2,469.00 USD", "currency": "USD",
         "status": " Shipped "}


@pytest.fixture
def orders() -> RecordParser:
    return RecordParser(load_registry().get("retail.orders.v1"), ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"])


def test_repairs_amounts_dates_and_numbers(orders):
    record = orders.parse(ORDER)
    assert record["unit_price"] == Decimal("1234.50")
    assert record["amount"] == Decimal("2469.00")
    assert record["quantity"] == 2
    assert record["order_ts"] == datetime(2024, 6, 3, 10, 11, 12, tzinfo=timezone.utc)
    assert record["status"] == " Shipped "  # text is kept as exported; staging normalises it


def test_date_only_means_midnight_utc(orders):
    record = orders.parse({**ORDER, "order_ts": "2024-06-03"})
    assert record["order_ts"] == datetime(2024, 6, 3, tzinfo=timezone.utc)


def test_empty_optional_becomes_null_and_default_applies(orders):
    record = orders.parse({**ORDER, "product_id": "  ", "currency": ""})
    assert record["product_id"] is None
    assert record["currency"] == "USD"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"order_id": ""}, "order_id", "required value is missing"),
        ({"quantity": "three"}, "quantity", "expected a whole number"),
        ({"quantity": "2.5"}, "quantity", "expected a whole number"),
        ({"order_ts": "yesterday"}, "order_ts", "unparseable date 'yesterday'"),
        ({"unit_price": "abc"}, "unit_price", "expected an amount"),
        ({"unit_price": "123456789012.00"}, "unit_price", "does not fit decimal(12,2)"),
    ],
)
def test_unrepairable_values_name_field_and_reason(orders, change, field, reason):
    with pytest.raises(FieldError) as caught:
        orders.parse({**ORDER, **change})
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_wrong_json_type_is_rejected():
    parser = RecordParser(load_registry().get("retail.customers.v1"), ["%Y-%m-%d"])
    with pytest.raises(FieldError) as caught:
        parser.parse({"customer_id": "C1", "name": ["Ann", "Lee"], "updated_at": "2024-01-01"})
    assert caught.value.field == "name"
    assert "got list" in caught.value.reason


def test_numbers_accepted_as_text_ids_and_dates_parsed():
    parser = RecordParser(load_registry().get("retail.customers.v1"), ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"])
    record = parser.parse({"customer_id": 42, "name": "Ann", "signup_date": "2023-02-01",
                           "updated_at": "2024-01-01T10:00:00+02:00"})
    assert record["customer_id"] == "42"
    assert record["signup_date"] == date(2023, 2, 1)
    assert record["updated_at"] == datetime(2024, 1, 1, 8, tzinfo=timezone.utc)


def test_renames_map_source_headers_onto_schema_fields():
    parser = RecordParser(load_registry().get("retail.customers.v1"), ["%Y-%m-%d"], renames={"id": "customer_id"})
    assert parser.parse({"id": "C9", "name": "Ann", "updated_at": "2024-01-01"})["customer_id"] == "C9"
