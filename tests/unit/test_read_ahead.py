"""Many one-record files read ahead by the kernel: records still in name order, each failure at its turn."""
import json
import os

import pytest

from producers.sources.base import MultiFileSource, SourceReadError, open_source
from producers.sources.json import JsonObjectSource
from streammart.pipeline import SourceConfig


def _config(path) -> SourceConfig:
    return SourceConfig.model_validate({
        "name": "titles", "domain": "movies", "entity": "titles", "schema": "movies.titles.v1", "format": "json",
        "path": str(path), "record_per_file": True, "key": ["kind", "id"]})


def _write(folder, count: int) -> None:
    folder.mkdir()
    for n in range(count):
        (folder / f"t{n:04d}.json").write_text(json.dumps({"id": n}, indent=1))


def test_records_come_in_name_order_with_their_files(tmp_path):
    _write(tmp_path / "titles", 300)
    (tmp_path / "titles" / "t0150.json").write_text("")
    records = list(open_source(_config(tmp_path / "titles" / "*.json")).records())
    assert [r.position.where for r in records] == [f"t{n:04d}.json" for n in range(300)]
    assert [r.data.get("id") for r in records[:3]] == [0, 1, 2]
    assert records[150].error == "empty file: no JSON object"
    assert all(r.error is None for i, r in enumerate(records) if i != 150)


def test_a_file_that_cannot_be_read_fails_at_its_turn(tmp_path):
    _write(tmp_path / "titles", 100)
    sources = [JsonObjectSource(p) for p in sorted((tmp_path / "titles").glob("*.json"))]
    sources[70].path = tmp_path / "titles" / "gone.json"
    reader = MultiFileSource(sources).records()
    assert [next(reader).data["id"] for _ in range(70)] == list(range(70))
    with pytest.raises(SourceReadError, match="cannot read .*gone.json"):
        next(reader)


def _open_files_under(folder) -> int:
    return sum(os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder)) for fd in os.listdir("/proc/self/fd")
               if os.path.islink(f"/proc/self/fd/{fd}"))


def test_stopping_early_leaves_no_file_open(tmp_path):
    _write(tmp_path / "titles", 500)
    reader = open_source(_config(tmp_path / "titles" / "*.json")).records()
    assert next(reader).data == {"id": 0}
    assert _open_files_under(tmp_path) == MultiFileSource.READ_AHEAD_FILES  # the next files, being read ahead
    reader.close()  # a run stopped by --max-rejects or Ctrl-C
    assert _open_files_under(tmp_path) == 0


def test_a_whole_run_leaves_no_file_open(tmp_path):
    _write(tmp_path / "titles", 200)
    assert len(list(open_source(_config(tmp_path / "titles" / "*.json")).records())) == 200
    assert _open_files_under(tmp_path) == 0


def test_big_files_of_a_glob_are_read_one_at_a_time(tmp_path):
    (tmp_path / "a.json").write_text('[{"id": 1}]')
    (tmp_path / "b.json").write_text('[{"id": 2}]')
    config = _config(tmp_path / "*.json").model_copy(update={"record_per_file": False})
    source = open_source(config)
    assert not any(hasattr(s, "read_ahead") for s in source.sources)
    assert [r.data["id"] for r in source.records()] == [1, 2]
