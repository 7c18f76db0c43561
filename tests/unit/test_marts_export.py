"""Export building blocks: the graph document, file bytes, writing only what changed."""
import io
import random
from datetime import date

import pyarrow.parquet as pq

from streammart.export import Table, csv_bytes, json_bytes, parquet_bytes, write_if_changed
from streammart.mentions_graph import graph_document

MENTIONS = [
    ("A01AD", "EPINEPHRINE", "pubmed", "7", "Epinephrine costs.", "J1", date(2020, 2, 1)),
    ("A01AD", "EPINEPHRINE", "clinical_trial", "NCT2", "EPINEPHRINE in arrest", None, date(2020, 4, 27)),
    ("A01AD", "EPINEPHRINE", "pubmed", "8", "Time to epinephrine.", "J1", date(2020, 3, 1)),
    ("S03AA", "TETRACYCLINE", "pubmed", "4", "Tetracycline resistance.", "J2", None),
    ("A01AD", "EPINEPHRINE", "pubmed", "10", "Epinephrine again.", "J2", date(2020, 2, 1)),
]
JOURNALS = [("J2", 2, 1), ("J1", 1, 2)]


def test_graph_document_is_the_same_whatever_the_row_order():
    shuffled = MENTIONS[:]
    random.Random(3).shuffle(shuffled)
    assert json_bytes(graph_document(shuffled, JOURNALS[::-1])) == json_bytes(graph_document(MENTIONS, JOURNALS))


def test_graph_document_links_drugs_to_publications_and_journals_with_dates():
    document = graph_document(MENTIONS, JOURNALS)
    epinephrine, tetracycline = document["drugs"]
    assert [m["id"] for m in epinephrine["pubmed"]] == ["10", "7", "8"]  # by date, then id
    assert epinephrine["clinical_trials"] == [{"id": "NCT2", "title": "EPINEPHRINE in arrest", "journal": None,
                                               "date": "2020-04-27"}]
    assert epinephrine["journals"] == [{"journal": "J1", "dates": ["2020-02-01", "2020-03-01"]},
                                       {"journal": "J2", "dates": ["2020-02-01"]}]
    assert tetracycline["journals"] == [{"journal": "J2", "dates": []}]  # a mention without a readable date
    assert document["top_journals"] == ["J2"]


def test_csv_and_parquet_bytes_are_reproducible_and_typed():
    table = Table(["code", "count", "day"], [25, 20, 1082], [("a", 1, date(2020, 1, 2)), ("b", None, None)])
    assert csv_bytes(table) == b"code,count,day\na,1,2020-01-02\nb,,\n"
    assert parquet_bytes(table) == parquet_bytes(table)
    read = pq.read_table(io.BytesIO(parquet_bytes(table)))
    assert [str(t) for t in read.schema.types] == ["string", "int64", "date32[day]"]
    assert read.to_pylist()[0] == {"code": "a", "count": 1, "day": date(2020, 1, 2)}


def test_a_file_is_written_only_when_its_bytes_change(tmp_path):
    path = tmp_path / "out.csv"
    assert write_if_changed(path, b"x\n")
    stamp = path.stat().st_mtime_ns
    assert not write_if_changed(path, b"x\n") and path.stat().st_mtime_ns == stamp
    assert write_if_changed(path, b"y\n") and path.read_bytes() == b"y\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
