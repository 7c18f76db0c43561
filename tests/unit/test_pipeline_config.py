from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from streammart.pipeline import (
    FieldRules,
    Incremental,
    ListSplit,
    Pagination,
    PipelineConfigError,
    SourceConfig,
    load_pipeline,
)
from streammart.settings import PROJECT_ROOT


def test_shipped_config_is_valid():
    pipeline = load_pipeline()
    orders = pipeline.source("retail_orders")
    assert orders.topic == "retail.orders.v1"
    assert orders.raw_table == "retail__orders"
    assert orders.path.exists()


def write(tmp_path, text):
    path = tmp_path / "pipeline.yml"
    path.write_text(text)
    return path


def test_errors_name_the_file_and_the_field(tmp_path):
    path = write(tmp_path, "sources:\n  - name: x\n    domain: retail\n    entity: orders\n"
                           "    schema: retail.orders.v1\n    format: csv\n    key: [order_id]\n")
    with pytest.raises(PipelineConfigError, match="a csv source needs `path`"):
        load_pipeline(path)


def test_unknown_schema_and_key_fields_are_reported(tmp_path):
    base = ("sources:\n  - name: x\n    domain: retail\n    entity: orders\n    format: csv\n"
            "    path: a.csv\n")
    with pytest.raises(PipelineConfigError, match="no schema named 'retail.nope.v1'"):
        load_pipeline(write(tmp_path, base + "    schema: retail.nope.v1\n    key: [order_id]\n"))
    with pytest.raises(PipelineConfigError, match="key names fields not in retail.orders.v1: orderid"):
        load_pipeline(write(tmp_path, base + "    schema: retail.orders.v1\n    key: [orderid]\n"))


def test_unset_environment_reference_is_reported(tmp_path, monkeypatch):
    monkeypatch.delenv("STREAMMART_NOPE", raising=False)
    with pytest.raises(PipelineConfigError, match=r"\$\{STREAMMART_NOPE\} is not set"):
        load_pipeline(write(tmp_path, "sources:\n  - url: http://x/${STREAMMART_NOPE}\n"))


def test_not_yaml_and_missing_file(tmp_path):
    with pytest.raises(PipelineConfigError, match="not valid YAML"):
        load_pipeline(write(tmp_path, "sources: [\n"))
    with pytest.raises(PipelineConfigError, match="cannot read"):
        load_pipeline(tmp_path / "missing.yml")


ORDERS = ("sources:\n  - name: orders\n    domain: retail\n    entity: orders\n    schema: retail.orders.v1\n"
          "    format: csv\n    path: a.csv\n    key: [order_id]\n")


@pytest.mark.parametrize(("extra", "message"), [
    ("    delimeter: ';'\n", r"sources.0.delimeter \(source 'orders'\): unknown key 'delimeter'; "
                            r"did you mean 'delimiter'\?"),
    ("    fields:\n      order_ts:\n        dayfrst: true\n", r"unknown key 'dayfrst'; did you mean 'dayfirst'\?"),
    ("    fields:\n      order_ts:\n        split: {delimter: ','}\n", r"did you mean 'delimiter'\?"),
    ("    records_path: data\n", r"records_path do\(es\) not apply to csv sources"),
    ("    encoding: klingon\n", "unknown encoding 'klingon'"),
    ("    timezone: Mars/Olympus\n", "unknown time zone 'Mars/Olympus'"),
    ("    dayfirst: true\n    date_formats: ['%d/%m/%Y']\n", "either `date_formats` or `dayfirst`"),
])
def test_config_mistakes_name_the_key_and_the_fix(tmp_path, extra, message):
    with pytest.raises(PipelineConfigError, match=message):
        load_pipeline(write(tmp_path, ORDERS + extra))


def test_a_top_level_typo_suggests_the_valid_key(tmp_path):
    with pytest.raises(PipelineConfigError, match=r"unknown key 'source'; did you mean 'sources'\?"):
        load_pipeline(write(tmp_path, ORDERS.replace("sources:", "sources:\n  - {}\nsource:")))


@pytest.mark.parametrize(("extra", "message"), [
    ("    event_time: status\n", "event_time: status is a string field; it must be a timestamp or a date"),
    ("    fields:\n      status:\n        split: {delimiter: ','}\n", "fields.status.split: status is a string "
                                                                      "field, not a list"),
    ("    fields:\n      amount:\n        dayfirst: true\n", "fields.amount: date rules given for a decimal field"),
    ("    fields:\n      nope: {blanks: keep}\n", "fields names fields not in retail.orders.v1: nope"),
    ("    columns: {a: status, b: status}\n", "several source columns are renamed to status"),
])
def test_config_that_does_not_fit_the_contract_is_refused(tmp_path, extra, message):
    with pytest.raises(PipelineConfigError, match=message):
        load_pipeline(write(tmp_path, ORDERS + extra))


def test_field_rules_fall_back_to_the_source(tmp_path):
    source = load_pipeline(write(tmp_path, ORDERS + "    dayfirst: true\n    blanks: keep\n    fields:\n"
                                              "      order_ts: {date_formats: ['%Y']}\n")).sources[0]
    assert (source.rules_for("amount").dayfirst, source.rules_for("amount").blanks) == (True, "keep")
    assert (source.rules_for("order_ts").date_formats, source.rules_for("order_ts").dayfirst) == (["%Y"], None)


@pytest.mark.parametrize("model", [SourceConfig, FieldRules, Pagination, Incremental])
def test_every_config_key_is_in_the_reference(model):
    reference = (PROJECT_ROOT / "docs" / "sources.md").read_text()
    keys = [field.alias or name for name, field in model.model_fields.items()]
    assert [k for k in keys if f"| `{k}` |" not in reference] == []


def test_split_keys_are_in_the_reference():
    reference = (PROJECT_ROOT / "docs" / "sources.md").read_text()
    assert all(f"`{k}`" in reference.split("`split` keys:")[1][:600] for k in ListSplit.model_fields)


def test_sources_sharing_a_topic_must_land_it_one_way(tmp_path):
    second = ORDERS.replace("name: orders", "name: orders_eu").replace("  - name", "  - name", 1)
    config = ORDERS + "    timezone: UTC\n" + second.split("sources:\n")[1] + "    timezone: Europe/Paris\n"
    with pytest.raises(PipelineConfigError, match="publish topic retail.orders.v1 with different `timezone`"):
        load_pipeline(write(tmp_path, config))


@pytest.mark.parametrize("name", ["UTC", "Etc/UTC", "Europe/Paris", "America/New_York"])
def test_a_sources_zone_gives_the_same_instants_and_utc_is_the_fixed_zone(tmp_path, name):
    source = load_pipeline(write(tmp_path, ORDERS + f"    timezone: {name}\n")).sources[0]
    assert (source.zone is timezone.utc) == (name in ("UTC", "Etc/UTC"))
    for hour in range(0, 24 * 400, 7):
        wall = datetime(2023, 1, 1) + timedelta(hours=hour)  # DST changes of both years included
        assert wall.replace(tzinfo=source.zone).timestamp() == wall.replace(tzinfo=ZoneInfo(name)).timestamp()
