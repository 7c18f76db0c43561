"""Can the current version of a contract read what an earlier version wrote? (BACKWARD)

The worker reads every event as the contract's current version, whatever version
wrote it (``wire.decode`` resolves writer → reader). A change the resolution rules
of the Avro specification cannot bridge would turn events already in Kafka into
dead letters; one more rule comes from the raw tables: a field whose column is
NOT NULL (no default in the earlier version) cannot be removed, or every new
event would miss a required column. Such changes are refused when the contracts
load, naming the rule; they belong in a new major version (a new topic).
"""
from __future__ import annotations

from typing import Any

PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}
NO_DEFAULT = object()


def _named_types(definition: Any, names: dict[str, dict], namespace: str = "") -> dict[str, dict]:
    """Every named type (record, enum, fixed) of a schema by full and short name, for references."""
    if isinstance(definition, list):
        for branch in definition:
            _named_types(branch, names, namespace)
    elif isinstance(definition, dict):
        kind = definition.get("type")
        if kind in ("record", "enum", "fixed"):
            namespace = definition.get("namespace", namespace)
            name = definition["name"]
            full = name if "." in name or not namespace else f"{namespace}.{name}"
            names[full] = names[name] = definition
        for field in definition.get("fields", []):
            _named_types(field["type"], names, namespace)
        for key in ("items", "values"):
            if key in definition:
                _named_types(definition[key], names, namespace)
        if isinstance(kind, (dict, list)):
            _named_types(kind, names, namespace)
    return names


def _describe(avro_type: Any) -> str:
    if isinstance(avro_type, list):
        return "[" + ", ".join(_describe(t) for t in avro_type) + "]"
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        base = avro_type.get("name") or _describe(avro_type["type"])
        return f"{base} ({logical})" if logical else base
    return str(avro_type)


class _Checker:
    """Walks a reader (current) and a writer (earlier) schema side by side, collecting problems."""

    def __init__(self, reader: dict, writer: dict):
        self.reader_names = _named_types(reader, {})
        self.writer_names = _named_types(writer, {})
        self.problems: list[str] = []

    def resolve(self, reader: Any, writer: Any) -> Any:
        if isinstance(reader, str) and reader not in PRIMITIVES:
            reader = self.reader_names.get(reader, reader)
        if isinstance(writer, str) and writer not in PRIMITIVES:
            writer = self.writer_names.get(writer, writer)
        return reader, writer

    def readable(self, reader: Any, writer: Any, where: str) -> bool:
        """Whether data of ``writer`` type reads as ``reader``; records problems when not."""
        reader, writer = self.resolve(reader, writer)
        if isinstance(writer, list):
            return all(self.readable(reader, branch, where) for branch in writer)
        if isinstance(reader, list):
            if any(self._quietly_readable(branch, writer) for branch in reader):
                return True
            self.problems.append(f"{where}: type changed from {_describe(writer)} to {_describe(reader)}")
            return False
        reader_kind, writer_kind = _kind(reader), _kind(writer)
        if reader_kind != writer_kind and reader_kind not in PROMOTIONS.get(writer_kind, ()):
            self.problems.append(f"{where}: type changed from {_describe(writer)} to {_describe(reader)}")
            return False
        if _logical(reader) != _logical(writer):
            self.problems.append(f"{where}: logical type changed from {_describe(writer)} to {_describe(reader)}")
            return False
        return self._structure(reader, writer, reader_kind, where)

    def _quietly_readable(self, reader: Any, writer: Any) -> bool:
        before = len(self.problems)
        ok = self.readable(reader, writer, "")
        del self.problems[before:]
        return ok

    def _structure(self, reader: Any, writer: Any, kind: str, where: str) -> bool:
        if kind == "record":
            return self.record(reader, writer, where)
        if kind == "array":
            return self.readable(reader["items"], writer["items"], f"{where}[]")
        if kind == "map":
            return self.readable(reader["values"], writer["values"], f"{where}{{}}")
        if kind == "enum":
            missing = sorted(set(writer["symbols"]) - set(reader["symbols"]))
            if missing and "default" not in reader:
                self.problems.append(f"{where}: enum symbols removed without an enum default: {', '.join(missing)}")
                return False
        if kind == "fixed" and reader.get("size") != writer.get("size"):
            self.problems.append(f"{where}: fixed size changed from {writer.get('size')} to {reader.get('size')}")
            return False
        if kind == "bytes" and _logical(reader) == "decimal":
            if (reader.get("precision"), reader.get("scale", 0)) != (writer.get("precision"), writer.get("scale", 0)):
                self.problems.append(f"{where}: decimal precision or scale changed")
                return False
        return True

    def record(self, reader: dict, writer: dict, where: str) -> bool:
        written = {f["name"]: f for f in writer["fields"]}
        read = {f["name"]: f for f in reader["fields"]}
        ok = True
        for name, field in read.items():
            path = f"{where}.{name}" if where else name
            if name in written:
                ok &= self.readable(field["type"], written[name]["type"], path)
            elif field.get("default", NO_DEFAULT) is NO_DEFAULT:
                self.problems.append(f"{path}: field added without a default (earlier events do not carry it)")
                ok = False
        for name, field in written.items():
            if name not in read and field.get("default", NO_DEFAULT) is NO_DEFAULT and not where:
                self.problems.append(f"{name}: required field removed (it had no default, so its raw column is "
                                     "NOT NULL and every new event would miss it)")
                ok = False
        return ok


def _kind(avro_type: Any) -> str:
    if isinstance(avro_type, dict):
        inner = avro_type["type"]
        return _kind(inner) if isinstance(inner, (dict, list)) or inner in PRIMITIVES else inner
    return avro_type


def _logical(avro_type: Any) -> str | None:
    return avro_type.get("logicalType") if isinstance(avro_type, dict) else None


def backward_problems(current: dict, earlier: dict) -> list[str]:
    """Why ``current`` cannot read what ``earlier`` wrote, one line per problem (empty: it can)."""
    checker = _Checker(current, earlier)
    checker.record(current, earlier, "")
    return checker.problems
