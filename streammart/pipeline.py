"""The pipeline config (``pipeline.yml``): every source, its topic and raw table.

Validated on load so that a typo fails with the file, the source and the field,
not with a KeyError deep in a produce loop.
"""
from __future__ import annotations

import codecs
import difflib
import os
import re
from datetime import timezone, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.avro_types import kind
from schemas.registry import Schema, SchemaError, SchemaRegistry, load_registry
from streammart.contract import landing_problems, raw_table_name, topic_name
from streammart.settings import PROJECT_ROOT, get_settings

#: Zone names that are UTC itself, with no rule to look up.
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})

DEFAULT_CONFIG = PROJECT_ROOT / "pipeline.yml"
IDENTIFIER = r"^[a-z][a-z0-9_]*$"
_ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)\}")


class PipelineConfigError(ValueError):
    """pipeline.yml is missing, not YAML, or does not describe a valid pipeline."""


_PAGE_STYLE_ONLY = ("page_param", "first_page")
_CURSOR_STYLE_ONLY = ("cursor_param", "next_cursor_path")


class Pagination(BaseModel):
    """How an HTTP source walks a JSON API: numbered pages (``?page=N&per_page=M``) or a cursor.

    ``max_pages`` and ``request_timeout`` exist because an API that never stops paging or a
    server that trickles bytes would otherwise produce for ever or hang the run.
    """

    model_config = ConfigDict(extra="forbid")
    style: Literal["page", "cursor"] = Field(
        "page", description="`page`: numbered pages, the walk ends at an empty page or one shorter than "
                            "`page_size`; `cursor`: each response names the next cursor, the walk ends when "
                            "there is none or a page is empty")
    page_param: str = Field("page", min_length=1, description="page style: query parameter carrying the page "
                                                              "number")
    first_page: int = Field(1, ge=0, description="page style: number of the first page (some APIs count from 0)")
    cursor_param: str = Field("cursor", min_length=1, description="cursor style: query parameter carrying the "
                                                                  "cursor (not sent for the first page)")
    next_cursor_path: str | None = Field(None, min_length=1, description="cursor style (required): dotted path "
                                         "in the response to the next cursor (`next`, `meta.next_cursor`); "
                                         "null, missing or empty ends the walk")
    size_param: str = Field("per_page", min_length=1, description="query parameter carrying `page_size` "
                                                                  "(both styles)")
    page_size: int = Field(100, gt=0, le=10_000, description="records asked for per page; no more than the "
                           "API's own maximum, since in page style a shorter page is taken as the last")
    params: dict[str, str] = Field(default_factory=dict, description="fixed query parameters sent with every "
                                   "request, such as a filter (`{status: active}`)")
    max_pages: int = Field(10_000, gt=0, description="most pages one run fetches; an API needing more fails the "
                           "source instead of producing for ever")
    request_timeout: float = Field(30.0, gt=0, description="seconds from sending a request to the last byte "
                                   "of its response body: a server trickling the body is cut off (connecting "
                                   "and each wait for the headers are bounded by it too)")
    attempts: int = Field(5, ge=1, le=20, description="tries per request on connection errors, timeouts, 429 "
                          "and 5xx, with exponential backoff; then the source fails")

    @model_validator(mode="after")
    def _consistent(self) -> "Pagination":
        if self.style == "cursor" and not self.next_cursor_path:
            raise ValueError("cursor pagination needs `next_cursor_path`, the dotted path to the next cursor "
                             "in each response")
        other, keys = ("page", _PAGE_STYLE_ONLY) if self.style == "cursor" else ("cursor", _CURSOR_STYLE_ONLY)
        misplaced = [k for k in keys if k in self.model_fields_set]
        if misplaced:
            raise ValueError(f"{', '.join(misplaced)}: only for style {other!r}, and this is style {self.style!r}")
        reserved = {self.size_param, self.page_param if self.style == "page" else self.cursor_param}
        clashing = sorted(reserved & self.params.keys())
        if clashing:
            raise ValueError(f"params {', '.join(clashing)} clash with the pagination's own query parameters")
        return self


class Incremental(BaseModel):
    """How `producers poll` asks an HTTP API for what changed since its last poll.

    The cursor (the newest value of ``field`` published, and the events published at that
    instant) is kept in a state file, so a poll publishes only new or changed records and a
    restart neither loses nor repeats any.
    """

    model_config = ConfigDict(extra="forbid")
    param: str = Field(min_length=1, description="query parameter carrying the cursor: the API returns records "
                                                 "whose `field` is at or after it (`updated_since`)")
    field: str = Field(min_length=1, description="contract timestamp field the API filters on and the cursor "
                                                 "follows (`updated_at`)")


BLANKS = Literal["null", "keep"]
ISO_8601 = "iso8601"


class ListSplit(BaseModel):
    """A list packed into one text value, ``"123; 456"`` → ``["123", "456"]``."""

    model_config = ConfigDict(extra="forbid")
    delimiter: str = Field(min_length=1, description="text between two items")
    trim: bool = Field(True, description="strip spaces and tabs around each item")
    skip_empty: bool = Field(False, description="drop items that are empty (after trimming); otherwise an empty "
                                                "item is parsed like any other and may be rejected")


class FieldRules(BaseModel):
    """How one contract field's source values are read; unset keys fall back to the source's."""

    model_config = ConfigDict(extra="forbid")
    date_formats: list[str] | None = Field(None, min_length=1, description="strptime formats, or `iso8601`")
    dayfirst: bool | None = Field(None, description="read d/m/y (true) or m/d/y (false) dates")
    blanks: BLANKS | None = Field(None, description="`null`: empty and whitespace-only text is a missing value; "
                                                    "`keep`: it is kept as text")
    split: ListSplit | None = Field(None, description="for a list (array) field fed with text")

    @model_validator(mode="after")
    def _one_date_rule(self) -> "FieldRules":
        if self.date_formats is not None and self.dayfirst is not None:
            raise ValueError("give either `date_formats` or `dayfirst`, not both")
        return self


_FORMAT_OPTIONS = {"delimiter": {"csv"}, "quotechar": {"csv"}, "records_path": {"json", "http"},
                   "record_per_file": {"json"}, "pagination": {"http"}, "incremental": {"http"}}


class SourceConfig(BaseModel):
    """One source: where its records are, how to read them, and the contract they are published under."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Annotated[str, Field(pattern=IDENTIFIER, description="unique name of the source")]
    domain: Annotated[str, Field(pattern=IDENTIFIER, description="first part of the topic and raw table names")]
    entity: Annotated[str, Field(pattern=IDENTIFIER, description="second part of the topic and raw table names")]
    schema_name: str = Field(alias="schema", description="the contract: `<domain>.<entity>.v<N>`, a file in schemas/")
    format: Literal["csv", "json", "ndjson", "http"] = Field(description="how the records are stored")
    path: Path | None = Field(None, description="file, or glob such as `data/movies/*.json` (relative to the "
                                                "project)")
    url: str | None = Field(None, description="http: the collection's URL")
    encoding: str = Field("utf-8", description="text encoding of files; a byte-order mark (UTF-8, UTF-16LE/BE, "
                                               "UTF-32) overrides it")
    delimiter: str = Field(",", min_length=1, max_length=1, description="csv: field separator")
    quotechar: str = Field('"', min_length=1, max_length=1, description="csv: quote character")
    records_path: str | None = Field(None, description="json/http: dotted path to the list of records inside "
                                                       "the document (`data`, `payload.items`)")
    record_per_file: bool = Field(False, description="json: each file holds one record (an object)")
    pagination: Pagination | None = Field(None, description="http: how pages are walked")
    incremental: Incremental | None = Field(None, description="http: how `producers poll` asks only for what "
                                                              "changed since its last poll")
    key: list[str] = Field(min_length=1, description="contract fields forming the Kafka key (the natural key)")
    event_time: str | None = Field(None, description="timestamp or date field carrying the event time")
    columns: dict[str, str] = Field(default_factory=dict, description="source column → contract field renames")
    ignore_columns: list[str] = Field(default_factory=list, description="source columns deliberately not "
                                                                        "published (not reported as unknown)")
    strict: bool = Field(False, description="a column that is neither a contract field nor ignored is an error")
    blanks: BLANKS = Field("null", description="empty and whitespace-only text: `null` (a missing value) or "
                                               "`keep` (text as read)")
    date_formats: list[str] | None = Field(None, min_length=1, description="strptime formats tried on every "
                                                                           "date; `iso8601` for ISO 8601")
    dayfirst: bool | None = Field(None, description="read d/m/y (true) or m/d/y (false) dates, with ISO 8601 "
                                                    "and month names")
    timezone: str = Field("UTC", description="IANA zone of timestamps written without an offset, and of dates "
                                             "used as event time")
    fields: dict[str, FieldRules] = Field(default_factory=dict, description="per contract field rules")

    @model_validator(mode="after")
    def _location_matches_format(self) -> "SourceConfig":
        if self.format == "http":
            if not self.url:
                raise ValueError("an http source needs `url`")
            self.pagination = self.pagination or Pagination()
        elif not self.path:
            raise ValueError(f"a {self.format} source needs `path`")
        misplaced = [k for k, formats in _FORMAT_OPTIONS.items()
                     if k in self.model_fields_set and self.format not in formats]
        if misplaced:
            raise ValueError(f"{', '.join(misplaced)} do(es) not apply to {self.format} sources")
        if self.date_formats is not None and self.dayfirst is not None:
            raise ValueError("give either `date_formats` or `dayfirst`, not both")
        return self

    @field_validator("path")
    @classmethod
    def _relative_to_project(cls, value: Path | None) -> Path | None:
        return value if value is None or value.is_absolute() else PROJECT_ROOT / value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as UTC or Europe/Paris)") from None
        return value

    @property
    def zone(self) -> tzinfo:
        """The ``timezone`` to read and land with; UTC as ``datetime.timezone.utc``.

        The same instants either way, but arithmetic between datetimes of one
        fixed zone object skips the offset lookups a ZoneInfo zone makes: turning
        a UTC timestamp into epoch milliseconds costs a third.
        """
        return timezone.utc if self.timezone in _UTC_NAMES else ZoneInfo(self.timezone)

    @property
    def topic(self) -> str:
        return topic_name(self.domain, self.entity, self.schema.major)

    @property
    def raw_table(self) -> str:
        """Table name inside schema ``raw``."""
        return raw_table_name(self.domain, self.entity)

    @cached_property
    def schema(self) -> Schema:
        return load_registry().get(self.schema_name)

    @property
    def location(self) -> str:
        return str(self.url or self.path)

    def rules_for(self, field: str) -> FieldRules:
        """The field's own rules, completed with the source's."""
        own = self.fields.get(field, FieldRules())
        dates = ({"date_formats": own.date_formats, "dayfirst": own.dayfirst}
                 if own.date_formats is not None or own.dayfirst is not None
                 else {"date_formats": self.date_formats, "dayfirst": self.dayfirst})
        return FieldRules(blanks=own.blanks or self.blanks, split=own.split, **dates)


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: list[SourceConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "PipelineConfig":
        names = [s.name for s in self.sources]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"duplicate source names: {', '.join(sorted(duplicates))}")
        return self

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise PipelineConfigError(f"no source named {name!r} (known: {', '.join(s.name for s in self.sources)})")

    def topics(self) -> dict[str, SourceConfig]:
        """Each topic with the first source that feeds it (sources may share a topic)."""
        result: dict[str, SourceConfig] = {}
        for s in self.sources:
            result.setdefault(s.topic, s)
        return result


def _expand_env(text: str) -> str:
    settings = get_settings()
    known = {f"STREAMMART_{k.upper()}": str(v) for k, v in settings.model_dump().items() if v is not None}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        value = os.environ.get(name, known.get(name))
        if value is None:
            raise PipelineConfigError(f"${{{name}}} is not set in the environment")
        return value

    return _ENV_REF.sub(replace, text)


def _check_source_against_schema(s: SourceConfig, schema: Schema) -> list[str]:
    """What in one source's config does not fit its contract, as ``key: problem`` lines."""
    kinds = {f["name"]: kind(f["type"]) for f in schema.fields}
    problems = []
    for label, names in (("key", s.key), ("event_time", [s.event_time] if s.event_time else []),
                         ("columns", list(s.columns.values())), ("fields", list(s.fields))):
        missing = [n for n in names if n not in kinds]
        if missing:
            problems.append(f"{label} names fields not in {schema.name}: {', '.join(missing)} "
                            f"(fields: {', '.join(kinds)})")
    if s.incremental and kinds.get(s.incremental.field) != "timestamp":
        problems.append(f"incremental.field: {s.incremental.field} must be a timestamp field of {schema.name}")
    if s.incremental and s.pagination and s.incremental.param in (s.pagination.params.keys() | {
            s.pagination.size_param, s.pagination.page_param, s.pagination.cursor_param}):
        problems.append(f"incremental.param: {s.incremental.param} clashes with the pagination's query parameters")
    if s.event_time in kinds and kinds[s.event_time] not in ("timestamp", "date"):
        problems.append(f"event_time: {s.event_time} is a {kinds[s.event_time]} field; it must be a timestamp "
                        "or a date")
    targets = list(s.columns.values())
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        problems.append(f"columns: several source columns are renamed to {', '.join(twice)}")
    for name, rules in s.fields.items():
        if name not in kinds:
            continue
        if rules.split and kinds[name] != "array":
            problems.append(f"fields.{name}.split: {name} is a {kinds[name]} field, not a list")
        if (rules.date_formats or rules.dayfirst is not None) and kinds[name] not in ("timestamp", "date"):
            problems.append(f"fields.{name}: date rules given for a {kinds[name]} field")
    return problems


def _check_against_schemas(config: PipelineConfig, registry: SchemaRegistry, path: Path) -> None:
    problems = []
    for s in config.sources:
        try:
            schema = registry.get(s.schema_name)
        except ValueError as exc:
            problems.append(f"source {s.name!r}: schema: {exc}")
            continue
        problems += [f"source {s.name!r}: {p}" for p in _check_source_against_schema(s, schema)]
    if problems:
        raise PipelineConfigError("\n".join([f"{path} does not fit the contracts:", *(f"  {p}" for p in problems)]))


def _model_at(location: tuple) -> type[BaseModel] | None:
    """The config model an error location points into (``sources.0.pagination`` → Pagination)."""
    model: type[BaseModel] | None = PipelineConfig
    for part in location:
        if isinstance(part, int) or model is None:
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is not None:  # otherwise a key of a mapping (``fields: {title: …}``): same model
            model = _nested_model(field.annotation)
    return model


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _config_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _describe_error(err: dict, raw: Any) -> str:
    """One validation error as ``where: what``, with the source's name and the nearest valid key."""
    loc = err["loc"]
    where = ".".join(str(p) for p in loc)
    if len(loc) > 1 and loc[0] == "sources" and isinstance(loc[1], int):
        try:
            where += f" (source {raw['sources'][loc[1]]['name']!r})"
        except (KeyError, IndexError, TypeError):
            pass
    if err["type"] != "extra_forbidden":
        return f"{where}: {err['msg']}"
    model = _model_at(loc[:-1])
    valid = _config_keys(model) if model else []
    nearest = difflib.get_close_matches(str(loc[-1]), valid, n=1)
    hint = f"did you mean {nearest[0]!r}?" if nearest else f"valid keys: {', '.join(valid)}"
    return f"{where}: unknown key {loc[-1]!r}; {hint}"


def load_pipeline(path: Path | str = DEFAULT_CONFIG) -> PipelineConfig:
    """Read, expand ``${VAR}`` and validate a pipeline config."""
    path = Path(path)
    try:
        raw = yaml.safe_load(_expand_env(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise PipelineConfigError(f"cannot read pipeline config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise PipelineConfigError(f"{path} is not valid YAML: {exc}") from None
    try:
        config = PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path} is not a valid pipeline config:"]
        lines += [f"  {_describe_error(err, raw)}" for err in exc.errors()]
        raise PipelineConfigError("\n".join(lines)) from None
    try:
        registry = load_registry()
    except SchemaError as exc:
        raise PipelineConfigError(f"the contracts in schemas/ cannot be loaded: {exc}") from None
    _check_against_schemas(config, registry, path)
    problems = landing_problems(config.sources)
    if problems:
        raise PipelineConfigError("\n  ".join([f"{path}: these sources cannot land as configured:", *problems]))
    return config
