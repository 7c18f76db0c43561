"""Fixtures for the drug mentions domain on the real stack: its shipped sample produced and landed."""
from __future__ import annotations

from pathlib import Path

import pytest

from streammart.dbt_cycle import run_cycle
from streammart.pipeline import load_pipeline
from streammart.settings import PROJECT_ROOT, Settings
from tests.integration.conftest import Scratch, land, run_producers

SAMPLE = PROJECT_ROOT / "data" / "drug_mentions"
DOMAIN = "drug_mentions"


def drug_mentions_sources(domain: str = DOMAIN, folder: Path = SAMPLE) -> list[dict]:
    """pipeline.yml's drug mentions sources (keys as written there), moved to ``domain`` and ``folder``."""
    sources = []
    for source in load_pipeline().sources:
        if source.domain != DOMAIN:
            continue
        keys = source.model_dump(mode="json", include={"name", "entity", "format", "columns", "blanks", "key"})
        sources.append({**keys, "domain": domain, "schema": source.schema.name, "path": str(folder / source.path.name)})
    return sources


@pytest.fixture(scope="session")
def drug_mentions_landed(running_stack: Settings, tmp_path_factory) -> Scratch:
    """The shipped sample produced into the real drug_mentions topics and landed in raw.drug_mentions__*."""
    scratch = Scratch(DOMAIN, tmp_path_factory.mktemp(DOMAIN))
    pipeline = scratch.pipeline_of(*drug_mentions_sources())
    produced = run_producers(pipeline, scratch.tmp / "rejects")
    assert produced.returncode == 0, produced.stdout + produced.stderr
    land(running_stack, pipeline, "test-drug-mentions-landing",
         [scratch.topic(entity) for entity in ("drugs", "pubmed", "clinical_trials")], scratch.tmp / "worker.log")
    return scratch


@pytest.fixture(scope="session")
def drug_mentions_marts(drug_mentions_landed, running_stack: Settings) -> Settings:
    """The landed sample built into the marts by one full dbt cycle."""
    result = run_cycle(full_refresh=True)
    assert result.status == "success", result.as_dict()
    return running_stack
