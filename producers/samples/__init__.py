"""Deterministic sample-data generators, one module per domain.

Each module ``producers/samples/<domain>.py`` has ``write_sample(out, scale, seed)``
returning the records written per file; ``producers sample <domain>`` finds it by
name, so a new domain is a new module and nothing else.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

WriteSample = Callable[..., dict[Path, int]]


def domains() -> list[str]:
    """The domains with a generator, in name order."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def generator(domain: str) -> WriteSample:
    return importlib.import_module(f"{__name__}.{domain}").write_sample
