import csv

from producers.samples import retail
from streammart.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "data" / "retail"


def test_generator_reproduces_the_shipped_sample(tmp_path):
    retail.write_sample(tmp_path)
    for name in ("orders.csv", "customers.json"):
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name


def test_sample_carries_the_known_dirt():
    text = (SHIPPED / "orders.csv").read_text()
    assert text.endswith(" ") and not text.endswith("\n")
    rows = list(csv.DictReader(text.splitlines()))
    statuses = {r["status"] for r in rows if r["status"]}
    assert {"SHIPPED", "Shipped", "shipped"} <= statuses
    assert any(r["unit_price"].startswith("$") for r in rows)
    assert any(len(r["order_ts"]) == 10 for r in rows)  # date-only
    ids = [r["order_id"] for r in rows]
    assert len(ids) != len(set(ids))  # later versions of the same order


def test_every_generator_module_is_a_sample_domain(tmp_path):
    from producers.samples import domains, generator

    assert "retail" in domains()
    assert generator("retail") is retail.write_sample
