"""Generated passwords for the local stack, kept in ``<home>/secrets.env`` (mode 0600).

Secrets never live in committed files. On first start the stack invents one
password per Postgres role, Airflow's JWT secret and Fernet key, and the Kafka
SCRAM passwords (clients' and broker's, used in SASL mode), and writes
them where :func:`streammart.settings.load_settings` finds them, so every shell
(and every Airflow task) sees the same values. A value already set in the
environment wins and is not written; a value already in the file is never
replaced, so restarting the stack never changes a password under a running client.
"""
from __future__ import annotations

import base64
import logging
import os
import secrets as _random
from collections.abc import Callable, Mapping
from pathlib import Path

from streammart.settings import ROLES, get_settings, secrets_file

log = logging.getLogger(__name__)


def _password() -> str:
    # URL-safe alphabet: the value can sit in a SQLAlchemy URL or a libpq string as is.
    return _random.token_urlsafe(24)


def _fernet_key() -> str:
    return base64.urlsafe_b64encode(_random.token_bytes(32)).decode()


def _jwt_secret() -> str:
    return _random.token_urlsafe(48)


def password_variable(role: str) -> str:
    """Environment variable holding the password of one of ``ROLES``."""
    return f"STREAMMART_PG_{role.upper()}_PASSWORD"


GENERATORS: dict[str, Callable[[], str]] = {
    **{password_variable(role): _password for role in ROLES},
    "STREAMMART_AIRFLOW_JWT_SECRET": _jwt_secret,
    "STREAMMART_AIRFLOW_FERNET_KEY": _fernet_key,
    "STREAMMART_AIRFLOW_ADMIN_PASSWORD": _password,
    "STREAMMART_KAFKA_SASL_PASSWORD": _password,  # used when the broker asks for SASL/SCRAM
    "STREAMMART_KAFKA_BROKER_PASSWORD": _password,
}

HEADER = (
    "# Passwords of the local streammart stack, generated on first start.\n"
    "# Local use only; never commit. Delete with: python -m stack stop --purge\n"
)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of ``path`` (comments and blank lines ignored)."""
    values: dict[str, str] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def ensure_secrets(home: Path, environ: Mapping[str, str] | None = None) -> list[str]:
    """Make sure every stack secret has a value; return the names newly generated.

    Values set in ``environ`` (default: ``os.environ``) are left out of the file;
    values already in the file are kept. Clears the cached settings when the file
    changes so the next :func:`get_settings` sees the new values.
    """
    environ = os.environ if environ is None else environ
    path = secrets_file(home)
    existing = read_env_file(path)
    generated: list[str] = []
    values = dict(existing)
    for key, make in GENERATORS.items():
        if environ.get(key) or existing.get(key):
            continue
        values[key] = make()
        generated.append(key)
    if path.exists() and path.stat().st_mode & 0o077:
        path.chmod(0o600)
    if generated:
        home.mkdir(parents=True, exist_ok=True)
        body = "".join(f"{key}={value}\n" for key, value in values.items())
        write_private(path, HEADER + body)
        get_settings.cache_clear()
        log.info("secrets: generated %d value(s) in %s (mode 0600)", len(generated), path)
    return generated
