"""Telehealth fixtures: the shipped sample's sources as pipeline.yml configures them, produced and
landed into a scratch domain (exact counts) or into the real telehealth tables (for the marts)."""
from __future__ import annotations

import yaml
import pytest

from streammart.settings import PROJECT_ROOT
from tests.integration.conftest import Scratch, land, run_producers, serve_api

SAMPLE = PROJECT_ROOT / "data" / "telehealth"
ENTITIES = ("appointments", "doctors", "patients")
# What the shipped sample holds (see producers/samples/telehealth.py): rows landed per entity,
# and the rejects/skips each source reports, as (position, field).
LANDED = {"appointments": 1705, "doctors": 40, "patients": 600}


def telehealth_sources(domain: str, api: str) -> list[dict]:
    """pipeline.yml's telehealth entries, publishing to ``domain`` and reading appointments from ``api``."""
    entries = yaml.safe_load((PROJECT_ROOT / "pipeline.yml").read_text(encoding="utf-8"))["sources"]
    sources = []
    for entry in entries:
        if entry["domain"] != "telehealth":
            continue
        source = dict(entry, domain=domain, name=entry["entity"])
        if source["format"] == "http":
            source["url"] = f"{api}/{entry['entity']}"
        sources.append(source)
    return sources


def produce_and_land(settings, scratch: Scratch, app_id: str) -> None:
    with serve_api(SAMPLE) as api:
        pipeline = scratch.pipeline_of(*telehealth_sources(scratch.domain, api))
        run = run_producers(pipeline, scratch.tmp / "rejects")
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    land(settings, pipeline, app_id, [scratch.topic(e) for e in ENTITIES], scratch.tmp / "worker.log")


@pytest.fixture(scope="session")
def telehealth_landed(running_stack, tmp_path_factory) -> Scratch:
    """The shipped sample produced into the real telehealth topics and landed in raw.telehealth__*."""
    scratch = Scratch("telehealth", tmp_path_factory.mktemp("telehealth"))
    produce_and_land(running_stack, scratch, "test-telehealth-landing")
    return scratch
