"""py-spy profiles of running processes, summarized as inclusive shares per function.

``make bench`` with ``--profile DIR`` records each worker it starts (py-spy's raw,
collapsed-stack format, one file per process) so "where does the CPU per event go"
is answered from the same run as the rates, not from a separate one.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

SAMPLE_RATE = 100  # per second: enough for shares over a run of tens of seconds, cheap for the profiled process
_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def record(pid: int, output: Path) -> subprocess.Popen:
    """Start py-spy on ``pid`` until it exits; ``--nonblocking`` so the process is never paused."""
    py_spy = shutil.which("py-spy") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "py-spy")
    return subprocess.Popen([py_spy, "record", "--nonblocking", "--threads", "-r", str(SAMPLE_RATE), "-f", "raw",
                             "-o", str(output), "--pid", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


#: Where the CPU per event is worth naming: the project's packages and the libraries they call per event.
NAMED_PACKAGES = ("stream_processors/", "streammart/", "schemas/", "psycopg/", "fastavro/", "confluent_kafka/")
STARTUP_MARKER = "importlib"  # a stack still importing modules belongs to the process start, not the landing


def frame_name(frame: str) -> str:
    """``function (path/to/module.py:12)`` -> ``module.function``: short enough for a table."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    return f"{Path(match['file']).stem}.{match['function']}"


def _named(frame: str) -> bool:
    match = _FRAME.match(frame.strip())
    return bool(match) and any(package in match["file"] for package in NAMED_PACKAGES)


def inclusive_shares(raw: str) -> tuple[int, Counter[str]]:
    """Samples after start-up and, per named function, the samples whose stack holds it (once per stack)."""
    total, shares = 0, Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit() or STARTUP_MARKER in stack:
            continue
        total += int(count)
        for name in {frame_name(frame) for frame in stack.split(";") if _named(frame)}:
            shares[name] += int(count)
    return total, shares


def summary(path: Path, top: int = 15) -> str:
    """The ``top`` named functions by inclusive share of ``path``'s samples, one per line."""
    total, shares = inclusive_shares(path.read_text())
    if not total:
        return f"{path.name}: no samples"
    lines = [f"{path.name}: {total:,} samples after start-up (~{total / SAMPLE_RATE:.0f} s on CPU)"]
    lines += [f"  {count / total:6.1%}  {name}" for name, count in shares.most_common(top)]
    return "\n".join(lines)
