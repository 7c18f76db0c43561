import pytest

from streammart.pipeline import PipelineConfigError, load_pipeline


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
