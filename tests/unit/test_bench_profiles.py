"""py-spy raw profiles are summarized per function, each counted once per stack."""
from bench.profiles import frame_name, inclusive_shares

RAW = """\
<module> (stream_processors/cli.py:10);run (stream_processors/app.py:5);row (stream_processors/decoding.py:88) 30
<module> (stream_processors/cli.py:10);run (stream_processors/app.py:5);land_batch (stream_processors/landing.py:40) 10
<module> (stream_processors/cli.py:10);recurse (x/y.py:1);recurse (x/y.py:1) 5
"""


def test_frame_name_keeps_module_and_function() -> None:
    assert frame_name("row (stream_processors/decoding.py:88)") == "decoding.row"
    assert frame_name("weird") == "weird"


def test_inclusive_shares_count_a_function_once_per_stack() -> None:
    total, shares = inclusive_shares(RAW)
    assert total == 45
    assert shares["cli.<module>"] == 45
    assert shares["app.run"] == 40
    assert shares["decoding.row"] == 30
    assert shares["y.recurse"] == 5
