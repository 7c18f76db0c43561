"""The dashboard's pages, one module per domain.

Each module ``dashboard/pages/<domain>.py`` defines ``PAGE = Page(...)``: the marts
the page reads and a function that reads its figures. The server finds the modules
by name, so a new domain's page is new files (this module, its template
``templates/<domain>.html`` and its script ``static/<domain>.js``) and no edit of
shared code. ``dashboard/README.md`` walks through it.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg

Overview = Callable[[psycopg.Connection], dict[str, Any]]
_DOMAIN = re.compile(r"[a-z][a-z0-9_]*")
_RELATION = re.compile(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class Page:
    """One domain's page: where it lives, what it reads, how it reads it."""

    domain: str  # the URL (/<domain>, /api/<domain>), the template and the script are named after it
    title: str  # the navigation label
    heading: str  # the page's own title
    marts: tuple[str, ...]  # "schema.relation" the page reads: a missing one is named, all empty means "no data yet"
    overview: Overview  # reads the figures; runs inside one repeatable-read, read-only snapshot
    position: int = 100  # navigation order (then title); the first page is where "/" lands
    background: Callable[[], None] | None = None  # started with the server: for a page that samples over time

    def __post_init__(self) -> None:
        if not _DOMAIN.fullmatch(self.domain):
            raise ValueError(f"page domain {self.domain!r}: lower-case letters, digits and '_' only")
        if not all(_RELATION.fullmatch(m) for m in self.marts):
            raise ValueError(f"page {self.domain!r}: marts must be 'schema.relation' names, got {self.marts!r}")


def _page_of(module_name: str) -> Page:
    page = getattr(importlib.import_module(f"{__name__}.{module_name}"), "PAGE", None)
    if not isinstance(page, Page) or page.domain != module_name:
        raise TypeError(f"dashboard/pages/{module_name}.py must define PAGE = Page(domain={module_name!r}, ...)")
    return page


@cache
def pages() -> tuple[Page, ...]:
    """Every domain's page, in navigation order."""
    found = [_page_of(m.name) for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    return tuple(sorted(found, key=lambda p: (p.position, p.title)))
