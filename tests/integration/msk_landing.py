"""The msk sample on the real stack: its pipeline.yml sources pointed at a domain and a folder, and landed.

Test modules import the fixture they use (``from tests.integration.msk_landing import msk_landed``);
keeping it here leaves the shared conftest to the retail fixtures.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from streammart.pipeline import DEFAULT_CONFIG
from streammart.settings import PROJECT_ROOT, Settings
from tests.integration.conftest import Scratch, land, run_producers

MSK_SAMPLE = PROJECT_ROOT / "data" / "msk"
ENTITIES = ("patients", "providers", "encounters", "referrals", "adverse_events", "network_providers")


def msk_sources(domain: str, folder: Path = MSK_SAMPLE, entities: tuple[str, ...] = ENTITIES) -> list[dict]:
    """pipeline.yml's msk sources, as they stand, moved to ``domain`` and reading ``folder``'s files."""
    sources = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))["sources"]
    moved = []
    for source in sources:
        if source["domain"] == "msk" and source["entity"] in entities:
            filename = Path(source["path"]).name
            moved.append({**source, "domain": domain, "path": str(folder / filename)})
    return moved


def produce_and_land(settings: Settings, scratch: Scratch, folder: Path = MSK_SAMPLE,
                     entities: tuple[str, ...] = ENTITIES, app_id: str | None = None) -> Path:
    """Replay ``entities`` of ``folder`` into ``scratch``'s topics and land them; returns the rejects folder."""
    rejects = scratch.tmp / "rejects"
    pipeline = scratch.pipeline_of(*msk_sources(scratch.domain, folder, entities))
    produced = run_producers(pipeline, rejects)
    assert produced.returncode == 0, produced.stderr[-3000:]
    land(settings, pipeline, app_id or scratch.app_id, [scratch.topic(e) for e in entities],
         scratch.tmp / "worker.log")
    return rejects


@pytest.fixture(scope="session")
def msk_landed(running_stack, tmp_path_factory) -> Scratch:
    """The shipped msk sample produced into the real msk topics and landed in raw.msk__*."""
    scratch = Scratch("msk", tmp_path_factory.mktemp("msk"))
    produce_and_land(running_stack, scratch, app_id="test-msk-landing")
    return scratch
