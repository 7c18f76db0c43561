"""Load the ``.avsc`` contracts and look them up by name or fingerprint."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

from schemas.compatibility import backward_problems

SCHEMA_DIR = Path(__file__).resolve().parent

#: Where a deployment keeps its own contracts instead of the shipped ones.
SCHEMA_DIR_ENV = "STREAMMART_SCHEMA_DIR"


def schema_dir() -> Path:
    """The contracts directory: ``$STREAMMART_SCHEMA_DIR``, else the ``schemas/`` package itself."""
    return Path(os.environ.get(SCHEMA_DIR_ENV) or SCHEMA_DIR)
_NAME = re.compile(r"^(?P<domain>[a-z][a-z0-9_]*)\.(?P<entity>[a-z][a-z0-9_]*)\.v(?P<major>[0-9]+)$")


class SchemaError(ValueError):
    """A schema file is missing, unreadable or not valid Avro."""


@dataclass(frozen=True)
class Schema:
    """One parsed contract, named ``<domain>.<entity>.v<major>`` after its file."""

    name: str
    domain: str
    entity: str
    major: int
    definition: dict[str, Any] = field(repr=False)
    parsed: dict[str, Any] = field(repr=False)
    fingerprint: bytes
    path: Path | None = field(default=None, compare=False)

    @property
    def fields(self) -> list[dict[str, Any]]:
        return self.definition["fields"]

    @property
    def field_names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    @property
    def fingerprint_hex(self) -> str:
        return self.fingerprint.hex()


def parse_schema_file(path: Path, earlier: bool = False) -> Schema:
    """Parse one ``.avsc``; the file name carries domain, entity and major version.

    An earlier version (``history/<domain>.<entity>.v<N>.<label>.avsc``) may carry
    any label after the major version.
    """
    stem = path.name.removesuffix(".avsc")
    match = _NAME.match(stem.rsplit(".", 1)[0] if earlier and stem.count(".") >= 3 else stem)
    if not match:
        expected = "<domain>.<entity>.v<N>.<label>.avsc" if earlier else "<domain>.<entity>.v<N>.avsc"
        raise SchemaError(f"{path}: schema files are named {expected}")
    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
        parsed = parse_schema(definition)
    except (OSError, json.JSONDecodeError, Exception) as exc:  # fastavro raises several types
        raise SchemaError(f"{path}: {exc}") from exc
    if definition.get("type") != "record":
        raise SchemaError(f"{path}: the top-level type must be a record")
    canonical = to_parsing_canonical_form(parsed)
    return Schema(
        name=match.group(0),
        domain=match["domain"],
        entity=match["entity"],
        major=int(match["major"]),
        definition=definition,
        parsed=parsed,
        fingerprint=bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO")),
        path=path,
    )


def shared_fingerprints(schemas: list[Schema]) -> list[str]:
    """Files of different contracts whose fingerprints are equal, each pair said once.

    The fingerprint is all an event carries to name its writer, so two contracts
    with one fingerprint are one contract to every reader: the events of one topic
    decode as the other's and become dead letters. Versions of one contract
    (``history/``) may share it: they are read as that contract anyway.
    """
    first: dict[bytes, Schema] = {}
    problems = []
    for schema in schemas:
        earlier = first.setdefault(schema.fingerprint, schema)
        if earlier.name != schema.name:
            problems.append(
                f"{earlier.path} ({earlier.name}) and {schema.path} ({schema.name}) have the same canonical form, "
                f"hence the same fingerprint {schema.fingerprint_hex}: no reader could tell their events apart. "
                f"Give the copy its own record `name` or `namespace` (for instance \"namespace\": "
                f"\"streammart.{schema.domain}.{schema.entity}.v{schema.major}\"); docs and defaults do not count")
    return problems


class SchemaRegistry:
    """Every contract by name, and every version ever written by 8-byte CRC-64-AVRO fingerprint.

    ``get`` returns the current version (the reader schema); ``by_fingerprint`` also
    knows the earlier versions kept in ``history/``, so events written before a
    contract evolved still decode.
    """

    def __init__(self, schemas: list[Schema], earlier: list[Schema] = ()):
        shared = shared_fingerprints([*schemas, *earlier])
        if shared:
            raise SchemaError("\n".join(shared))
        self._by_name = {s.name: s for s in schemas}
        self._by_fingerprint = {s.fingerprint: s for s in [*earlier, *schemas]}
        orphans = sorted({s.name for s in earlier} - set(self._by_name))
        if orphans:
            raise SchemaError(f"history holds versions of contracts that no longer exist: {', '.join(orphans)}")
        incompatible = [problem for old in earlier for problem in self._unreadable(old)]
        if incompatible:
            raise SchemaError("\n".join(incompatible))

    def _unreadable(self, earlier: Schema) -> list[str]:
        """BACKWARD: the current version must read every earlier version of its contract."""
        current = self._by_name[earlier.name]
        return [f"{current.path} cannot read events written with {earlier.path} (BACKWARD compatibility): "
                f"{problem}; an incompatible change is a new major version, {earlier.domain}.{earlier.entity}."
                f"v{earlier.major + 1}.avsc" for problem in backward_problems(current.definition, earlier.definition)]

    def get(self, name: str) -> Schema:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name)) or "none"
            raise SchemaError(f"no schema named {name!r} (known: {known})") from None

    def by_fingerprint(self, fp: bytes) -> Schema | None:
        return self._by_fingerprint.get(fp)

    def versions_of(self, domain: str, entity: str) -> list[Schema]:
        """Every version of one contract family this registry decodes (all majors, earlier ones included)."""
        return [s for s in self._by_fingerprint.values() if (s.domain, s.entity) == (domain, entity)]

    def __iter__(self):
        return iter(self._by_name.values())


def contract_files(directory: Path | None = None) -> tuple[list[Path], list[Path]]:
    """The current contracts of ``directory`` (default :func:`schema_dir`) and the earlier versions in its
    ``history/``."""
    directory = Path(directory) if directory else schema_dir()
    return sorted(directory.glob("*.avsc")), sorted((directory / "history").glob("*.avsc"))


@lru_cache(maxsize=4)
def load_registry(directory: Path | None = None) -> SchemaRegistry:
    """The contracts of ``directory`` (default :func:`schema_dir`) and of its ``history/``.

    Cached: parsing costs milliseconds per file. A process that watches for new
    files (the landing worker) calls ``load_registry.cache_clear()`` before reloading.
    """
    current, earlier = contract_files(directory)
    return SchemaRegistry([parse_schema_file(p) for p in current], [parse_schema_file(p, earlier=True) for p in earlier])
