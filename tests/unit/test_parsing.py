from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from producers.parsing import FieldError, RecordParser
from tests.unit.conftest import VISITS

ORDER = {"order_id": "O1", "customer_id": "C1", "product_id": "P1", "order_ts": "2024-06-03 10:11:12",
         "quantity": "2", "unit_price": "$1,234.50", "amount": "2,469.00 USD", "currency": "USD",
         "status": " Shipped "}
VISIT = {"visit_id": "V1", "visit_date": "2024-06-03"}


@pytest.fixture
def orders(make_source) -> RecordParser:
    return RecordParser(make_source(date_formats=["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]))


def reason(parser: RecordParser, data: dict) -> tuple[str, str]:
    with pytest.raises(FieldError) as caught:
        parser.parse(data)
    return caught.value.field, caught.value.reason


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
    ("change", "field", "why"),
    [
        ({"order_id": ""}, "order_id", "required value is blank"),
        ({"quantity": "three"}, "quantity", "expected a whole number"),
        ({"quantity": "2.5"}, "quantity", "expected a whole number"),
        ({"order_ts": "yesterday"}, "order_ts", "unparseable date 'yesterday'"),
        ({"unit_price": "abc"}, "unit_price", "expected an amount"),
        ({"unit_price": "123456789012.00"}, "unit_price", "does not fit decimal(12,2)"),
        # a comma that is not a thousands separator would be read as one: 1,5 → 15
        ({"unit_price": "1,5"}, "unit_price", "a comma that is not a thousands separator"),
        ({"quantity": "1,5"}, "quantity", "a comma that is not a thousands separator"),
        # rounding would change the amount: refused instead
        ({"unit_price": "12.345"}, "unit_price", "12.345 has more decimals than decimal(12,2) keeps"),
        ({"unit_price": "12 34"}, "unit_price", "expected an amount"),
    ],
)
def test_unrepairable_values_name_field_and_reason(orders, change, field, why):
    got_field, got_reason = reason(orders, {**ORDER, **change})
    assert got_field == field
    assert why in got_reason


def test_repairs_are_exact(orders):
    record = orders.parse({**ORDER, "unit_price": "(12.50)", "amount": "-$1,000.10", "quantity": "1,000"})
    assert (record["unit_price"], record["amount"], record["quantity"]) == (Decimal("-12.50"),
                                                                           Decimal("-1000.10"), 1000)
    assert orders.parse({**ORDER, "unit_price": "12.340"})["unit_price"] == Decimal("12.34")


def test_wrong_json_type_is_rejected(make_source):
    parser = RecordParser(make_source("retail.customers.v1"))
    field, why = reason(parser, {"customer_id": "C1", "name": ["Ann", "Lee"], "updated_at": "2024-01-01"})
    assert field == "name" and "got list" in why


def test_numbers_accepted_as_text_ids_and_dates_parsed(make_source):
    parser = RecordParser(make_source("retail.customers.v1", date_formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]))
    record = parser.parse({"customer_id": 42, "name": "Ann", "signup_date": "2023-02-01",
                           "updated_at": "2024-01-01T10:00:00+02:00"})
    assert record["customer_id"] == "42"
    assert record["signup_date"] == date(2023, 2, 1)
    assert record["updated_at"] == datetime(2024, 1, 1, 8, tzinfo=timezone.utc)


def test_renames_map_source_headers_onto_schema_fields(make_source):
    parser = RecordParser(make_source("retail.customers.v1", columns={"id": "customer_id"}))
    assert parser.parse({"id": "C9", "name": "Ann", "updated_at": "2024-01-01"})["customer_id"] == "C9"


def test_text_for_a_list_field_is_a_reject_never_characters(make_source):
    """Defect 2: "123,456" for an array of strings used to land as ["1", "2", "3", ",", …]."""
    parser = RecordParser(make_source(VISITS))
    field, why = reason(parser, {**VISIT, "npis": "1234567890,1987654321"})
    assert field == "npis"
    assert "declare `split`" in why


def test_declared_split_reads_a_packed_list(make_source):
    parser = RecordParser(make_source(VISITS, fields={
        "npis": {"split": {"delimiter": ","}},
        "scores": {"split": {"delimiter": ";", "skip_empty": True}}}))
    record = parser.parse({**VISIT, "npis": " 1234567890 , 1987654321", "scores": "3;;4;"})
    assert record["npis"] == ["1234567890", "1987654321"]
    assert record["scores"] == [3, 4]
    assert parser.parse({**VISIT, "npis": ["1", "2"]})["npis"] == ["1", "2"]  # a JSON list needs no split
    assert reason(parser, {**VISIT, "scores": "3;x"}) == ("scores", "item 2: expected a whole number, got 'x'")


def test_empty_key_is_a_reject_not_the_text_none(make_source):
    """Defect 7: a record with an empty key was keyed with the literal string "None"."""
    parser = RecordParser(make_source(VISITS, key=["note"]))
    assert reason(parser, {**VISIT, "note": ""}) == ("note", "key field is empty")
    assert reason(parser, VISIT) == ("note", "key field is empty")
    keep = RecordParser(make_source(VISITS, key=["visit_id"], blanks="keep"))
    assert reason(keep, {**VISIT, "visit_id": " "}) == ("visit_id", "key field is empty")


def test_a_date_two_formats_read_differently_is_rejected(make_source):
    """Defect 8: 02/01/2019 under day-first and month-first took the first format silently."""
    parser = RecordParser(make_source(VISITS, date_formats=["%d/%m/%Y", "%m/%d/%Y"]))
    field, why = reason(parser, {**VISIT, "visit_date": "02/01/2019"})
    assert field == "visit_date"
    assert "ambiguous date '02/01/2019'" in why and "2019-01-02" in why and "2019-02-01" in why
    assert parser.parse({**VISIT, "visit_date": "25/05/2020"})["visit_date"] == date(2020, 5, 25)


@pytest.mark.parametrize(("dayfirst", "expected"), [(True, date(2019, 1, 2)), (False, date(2019, 2, 1))])
def test_dayfirst_decides_and_reads_the_usual_spellings(make_source, dayfirst, expected):
    parser = RecordParser(make_source(VISITS, dayfirst=dayfirst))
    assert parser.parse({**VISIT, "visit_date": "02/01/2019"})["visit_date"] == expected
    for text, day in [("1 January 2020", date(2020, 1, 1)), ("2020-01-01", date(2020, 1, 1))]:
        assert parser.parse({**VISIT, "visit_date": text})["visit_date"] == day


def test_field_rules_override_source_rules(make_source):
    parser = RecordParser(make_source(VISITS, dayfirst=True, fields={"seen_at": {"date_formats": ["%m/%d/%Y"]}}))
    record = parser.parse({**VISIT, "visit_date": "02/01/2019", "seen_at": "02/01/2019"})
    assert record["visit_date"] == date(2019, 1, 2)
    assert record["seen_at"] == datetime(2019, 2, 1, tzinfo=timezone.utc)


def test_naive_timestamps_are_read_in_the_source_time_zone(make_source):
    parser = RecordParser(make_source(VISITS, timezone="Europe/Paris"))
    summer = parser.parse({**VISIT, "seen_at": "2024-07-01 10:00:00"})["seen_at"]
    winter = parser.parse({**VISIT, "seen_at": "2024-01-01 10:00:00"})["seen_at"]
    offset = parser.parse({**VISIT, "seen_at": "2024-07-01T10:00:00+00:00"})["seen_at"]
    assert summer.utcoffset() == timedelta(hours=2) and summer.astimezone(timezone.utc).hour == 8
    assert winter.astimezone(timezone.utc).hour == 9
    assert offset.astimezone(timezone.utc).hour == 10  # an explicit offset wins


def test_blanks_rule_per_source_and_per_field(make_source):
    data = {**VISIT, "note": "  "}
    assert RecordParser(make_source(VISITS)).parse(data)["note"] is None
    assert RecordParser(make_source(VISITS, blanks="keep")).parse(data)["note"] == "  "
    per_field = RecordParser(make_source(VISITS, fields={"note": {"blanks": "keep"}}))
    assert per_field.parse(data)["note"] == "  "


def test_unknown_columns_are_counted_and_strict_rejects_them(make_source):
    parser = RecordParser(make_source(VISITS, ignore_columns=["internal"]))
    for _ in range(3):
        parser.parse({**VISIT, "colour": "red", "internal": 1})
    assert parser.unknown_columns == {"colour": 3}
    strict = RecordParser(make_source(VISITS, strict=True))
    assert reason(strict, {**VISIT, "colour": "red"}) == ("colour", "column is not in clinic.visits.v1 (strict)")


def test_renames_that_never_matched_are_reported_with_the_nearest_column(make_source):
    parser = RecordParser(make_source(VISITS, columns={"Visit Dat": "visit_date", "ID": "visit_id"}))
    with pytest.raises(FieldError):
        parser.parse({"ID": "V1", "Visit Date": "2024-06-03"})
    assert parser.unmatched_renames() == ["'Visit Dat' (nearest: 'Visit Date')"]


def test_two_columns_feeding_one_field_is_a_reject(make_source):
    parser = RecordParser(make_source(VISITS, columns={"id": "visit_id"}))
    field, why = reason(parser, {**VISIT, "id": "V2"})
    assert field == "visit_id" and "both" in why


def test_header_check_refuses_what_would_lose_data(make_source):
    parser = RecordParser(make_source(VISITS, columns={"Visit Dat": "visit_date"}))
    with pytest.raises(ValueError) as caught:
        parser.check_header(["visit_id", "Visit Date", "note", "note"], "v.csv:1")
    message = str(caught.value)
    assert "'note' more than once" in message
    assert "'Visit Dat' matches no column of the header (nearest: 'Visit Date')" in message
    assert "no column for required field(s) visit_date" in message
    RecordParser(make_source(VISITS)).check_header(["visit_id", "visit_date", "extra"], "v.csv:1")
    with pytest.raises(ValueError, match=r"columns not in clinic.visits.v1 \(strict\): extra"):
        RecordParser(make_source(VISITS, strict=True)).check_header(["visit_id", "visit_date", "extra"], "v.csv:1")


def test_a_column_renamed_away_from_a_field_of_its_name_does_not_feed_that_field(make_source):
    """Records whose columns all name their own fields are read as they are; one column
    renamed to nothing and ignored must still leave the field of its name unfed."""
    parser = RecordParser(make_source(columns={"product_id": "sku"}, ignore_columns=["product_id"],
                                      date_formats=["%Y-%m-%d %H:%M:%S"]))
    assert parser.parse(ORDER)["product_id"] is None
    as_is = RecordParser(make_source(date_formats=["%Y-%m-%d %H:%M:%S"]))
    assert as_is.parse(ORDER)["product_id"] == "P1"
