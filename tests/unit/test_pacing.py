import time
from datetime import datetime, timedelta, timezone

import pytest

from producers.pacing import EventTimePacer, RatePacer, make_pacer

T0 = datetime(2024, 6, 1, tzinfo=timezone.utc)


def test_event_time_pacer_keeps_the_source_rhythm_scaled(monkeypatch):
    clock = [100.0]
    slept = []
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(time, "sleep", lambda s: (slept.append(round(s, 6)), clock.__setitem__(0, clock[0] + s)))
    pacer = EventTimePacer(speed=60)
    pacer.wait(T0)                              # the origin: no wait
    pacer.wait(T0 + timedelta(minutes=1))       # one minute of history → 1 s at 60×
    clock[0] += 5                               # a slow moment...
    pacer.wait(T0 + timedelta(minutes=3))       # ...is caught up: due at 3 s, now at 6 s
    pacer.wait(T0 + timedelta(minutes=2))       # older than what was sent: at once
    pacer.wait(None)                            # no event time: at once
    pacer.wait(T0 + timedelta(minutes=10))      # due at 10 s, now at 6 s
    assert slept == [1.0, 4.0]


def test_rate_pacer_holds_the_average(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    pacer = RatePacer(rate=10)
    for _ in range(50):
        pacer.wait()
    assert clock[0] == pytest.approx(5.0)


def test_rate_and_speed_are_exclusive():
    with pytest.raises(ValueError, match="not both"):
        make_pacer(rate=10, speed=2)
    assert isinstance(make_pacer(speed=2), EventTimePacer)
    assert isinstance(make_pacer(rate=0), RatePacer)


def test_cli_refuses_rate_and_speed_together():
    from click.testing import CliRunner

    from producers.cli import main

    result = CliRunner().invoke(main, ["run", "--rate", "5", "--speed", "2"])
    assert result.exit_code == 2
    assert "pace by --rate or by --speed, not both" in result.output
