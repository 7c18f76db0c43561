"""Rendering the services' configuration files from ``stack/templates/``.

Templates use ``${name}`` placeholders (:class:`string.Template`): the files stay
readable as the real config format, and a missing value fails loudly instead of
leaving a placeholder in a live config.
"""
from __future__ import annotations

from pathlib import Path
from string import Template

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def render_template(name: str, **values: object) -> str:
    """The text of ``templates/<name>`` with every ``${key}`` replaced."""
    text = (TEMPLATES_DIR / name).read_text()
    return Template(text).substitute({key: str(value) for key, value in values.items()})


def write_text(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write ``text`` to ``path`` unless it already holds exactly that; True if written."""
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return True
