"""py-spy raw profiles are summarized per named function, each counted once per stack."""
from bench.profiles import frame_name, inclusive_shares

RAW = """\
<module> (stream-processors:10);run (stream_processors/app.py:5);row (stream_processors/decoding.py:88) 30
<module> (stream-processors:10);run (stream_processors/app.py:5);land_batch (stream_processors/landing.py:40) 10
<module> (stream-processors:10);recurse (stream_processors/x.py:1);recurse (stream_processors/x.py:1) 5
<module> (stream-processors:10);_find_and_load (<frozen importlib._bootstrap>:1);f (stream_processors/app.py:1) 50
"""


def test_frame_name_keeps_module_and_function() -> None:
    assert frame_name("row (stream_processors/decoding.py:88)") == "decoding.row"
    assert frame_name("weird") == "weird"


def test_start_up_is_left_out_and_a_function_counts_once_per_stack() -> None:
    total, shares = inclusive_shares(RAW)
    assert total == 45
    assert shares["app.run"] == 40
    assert shares["decoding.row"] == 30
    assert shares["x.recurse"] == 5
    assert "stream-processors.<module>" not in shares
