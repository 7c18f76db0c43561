"""Consoles for the command-line tools."""
from __future__ import annotations

from rich.console import Console

PIPED_WIDTH = 140


def make_console(stderr: bool = False) -> Console:
    """A rich console; when output goes to a pipe or a log file, lines are not wrapped at 80 columns."""
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=PIPED_WIDTH)
