"""The movies sample produced and landed on the real local stack, for the movies tests and its dashboard page."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from streammart.settings import PROJECT_ROOT
from tests.integration.conftest import Scratch, land, run_producers

SAMPLE = PROJECT_ROOT / "data" / "movies"


def movies_sources(domain: str) -> list[dict]:
    """pipeline.yml's movies sources, publishing to ``domain`` instead (names prefixed to stay unique)."""
    config = yaml.safe_load((PROJECT_ROOT / "pipeline.yml").read_text())
    return [{**source, "domain": domain} for source in config["sources"] if source["domain"] == "movies"]


def produce_and_land(settings, scratch: Scratch, app_id: str) -> Path:
    """Every movies source produced into ``scratch``'s domain and landed; returns the rejects folder."""
    pipeline = scratch.pipeline_of(*movies_sources(scratch.domain))
    rejects = scratch.tmp / "rejects"
    produced = run_producers(pipeline, rejects)
    assert produced.returncode == 0, produced.stdout[-3000:] + produced.stderr[-3000:]
    land(settings, pipeline, app_id, [scratch.topic("titles"), scratch.topic("genres")], scratch.tmp / "worker.log")
    return rejects


def good_title_files() -> list[dict]:
    """Every title file that parses to a record with a kind and a numeric id (the ones that must land)."""
    documents = []
    for path in sorted((SAMPLE / "titles").glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
        if "media_type" in document and isinstance(document["id"], int) and \
                not isinstance(document.get("vote_count", 0), str):
            documents.append(document)
    return documents


@pytest.fixture(scope="session")
def movies_landed(running_stack, tmp_path_factory) -> Scratch:
    """The shipped movies sample produced into the real movies topics and landed in raw.movies__*."""
    scratch = Scratch("movies", tmp_path_factory.mktemp("movies"))
    produce_and_land(running_stack, scratch, "test-movies-landing")
    return scratch
