"""A big JSON array: every record keeps its line, counted once through the file (not from the top each time)."""
import json

from producers.sources import json as json_sources
from producers.sources.json import JsonArraySource


def test_records_of_a_big_array_keep_their_lines_after_broken_elements(tmp_path):
    elements = []
    for n in range(300):
        if n % 50 == 7:
            elements.append('{"id": %d,\n "title": oops}' % n)
        else:
            elements.append(json.dumps({"id": n, "text": "x"}, indent=n % 4 or None))
    text = "[\n" + ",\n".join(elements) + "\n]\n"
    path = tmp_path / "big.json"
    path.write_text(text)
    expected, index = [], 0
    for element in elements:
        index = text.index(element, index)
        expected.append(text.count("\n", 0, index) + 1)
        index += len(element)
    records = list(JsonArraySource(path).records())
    assert len(records) == 300 and expected[0] == 2
    assert [r.position.line for r in records] == expected
    assert sum(1 for r in records if r.error) == 6


def test_lines_are_counted_once_through_the_text(tmp_path, monkeypatch):
    counted = []
    real = json_sources._LineCounter.at

    def spy(self, index):
        before = self.index
        line = real(self, index)
        counted.append(index - before)
        return line

    monkeypatch.setattr(json_sources._LineCounter, "at", spy)
    path = tmp_path / "many.json"
    path.write_text("[\n" + ",\n".join(json.dumps({"id": n}, indent=1) for n in range(1000)) + "\n]\n")
    assert len(list(JsonArraySource(path).records())) == 1000
    assert sum(counted) < path.stat().st_size
