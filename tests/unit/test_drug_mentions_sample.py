"""The drug mentions sample: reproducible, and its dirt where the generator says, at any scale."""
import csv
import json
import re

import pytest

from producers.publisher import DryRun
from producers.replay import SourceReplay
from producers.samples import drug_mentions
from streammart.pipeline import load_pipeline
from streammart.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "data" / "drug_mentions"
FILES = ("drugs.csv", "pubmed.csv", "pubmed.json", "clinical_trials.csv")
SOURCES = ("drug_mentions_drugs", "drug_mentions_pubmed_csv", "drug_mentions_pubmed_json",
           "drug_mentions_clinical_trials")


def test_generator_reproduces_the_shipped_sample(tmp_path):
    drug_mentions.write_sample(tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name


def replay(folder, tmp_path) -> dict[str, tuple[int, int, int, int, list[dict]]]:
    """Each source of pipeline.yml read from ``folder`` without Kafka: (read, produced, rejected, skipped, rejects)."""
    pipeline = load_pipeline()
    results = {}
    for name in SOURCES:
        config = pipeline.source(name)
        config = config.model_copy(update={"path": folder / config.path.name})
        summary = SourceReplay(config, DryRun({}), tmp_path / "rejects").run()
        rejects = [json.loads(line) for line in summary.rejects_file.read_text().splitlines()]
        assert summary.accounted and summary.failure is None
        results[name] = (summary.read, summary.produced, summary.rejected, summary.skipped, rejects)
    return results


@pytest.mark.parametrize("scale", [1, 3])
def test_every_record_is_produced_rejected_or_skipped_as_planned(tmp_path, scale):
    written = drug_mentions.write_sample(tmp_path / "sample", scale=scale)
    counts = {path.name: n for path, n in written.items()}
    results = replay(tmp_path / "sample", tmp_path)

    assert results["drug_mentions_drugs"][:4] == (len(drug_mentions.DRUGS), len(drug_mentions.DRUGS), 0, 0)
    tab_lines = drug_mentions.PUBMED_CSV_TAB_LINES
    assert results["drug_mentions_pubmed_csv"][:4] == (counts["pubmed.csv"] + tab_lines, counts["pubmed.csv"], 0,
                                                      tab_lines)
    empty_ids = drug_mentions.PUBMED_JSON_EMPTY_IDS
    assert results["drug_mentions_pubmed_json"][:4] == (counts["pubmed.json"], counts["pubmed.json"] - empty_ids,
                                                       empty_ids, 0)
    split = drug_mentions.TRIALS_SPLIT_RECORDS
    trials = counts["clinical_trials.csv"]
    assert results["drug_mentions_clinical_trials"][:4] == (trials, trials - split, split, 0)

    (skip,) = results["drug_mentions_pubmed_csv"][4]
    assert (skip["raw"], skip["outcome"], skip["line"]) == ("\t", "skipped", counts["pubmed.csv"] + 2)
    (empty,) = results["drug_mentions_pubmed_json"][4]
    assert (empty["field"], empty["reason"]) == ("pubmed_id", "key field is empty")
    (half,) = results["drug_mentions_clinical_trials"][4]
    assert half["raw"].startswith(",,,") and half["field"] == "trial_id"


def test_sample_carries_the_known_dirt():
    drugs = list(csv.DictReader((SHIPPED / "drugs.csv").open()))
    assert {len(d["atccode"]) for d in drugs} == {5, 7}

    pubmed_text = (SHIPPED / "pubmed.csv").read_text()
    assert pubmed_text.endswith("\n\t")
    pubmed = list(csv.DictReader(pubmed_text.splitlines()))
    trials = list(csv.DictReader((SHIPPED / "clinical_trials.csv").open()))
    json_text = (SHIPPED / "pubmed.json").read_text()
    assert re.search(r",\s*\]\s*$", json_text)  # the trailing comma: not JSON as shipped
    with pytest.raises(json.JSONDecodeError):
        json.loads(json_text)
    records = json.loads(re.sub(r",\s*\]\s*$", "]", json_text))
    assert {type(r["id"]) for r in records} == {int, str} and sum(r["id"] == "" for r in records) == 1

    dates = [r["date"] for r in [*pubmed, *trials, *records]]
    assert any(re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}", d) for d in dates)
    assert "25/05/2020" in dates
    assert any(re.fullmatch(r"(0\d|1[0-2])/(0\d|1[0-2])/\d{4}", d) for d in dates)  # day/month ambiguous
    assert any(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in dates)

    titles = [r["title"] for r in pubmed] + [r["scientific_title"] for r in trials]
    assert sum(1 for t in titles if t and not t.strip()) == sum(drug_mentions.WHITESPACE_TITLES.values())
    assert any("\\xc3\\xb1" in t for t in titles)
    assert any("\\xc3" in r["journal"] for r in trials)
    split = [n for n, r in enumerate(trials) if not r["id"]]
    assert len(split) == 1 and trials[split[0] - 1]["journal"] == "" and trials[split[0]]["journal"]
