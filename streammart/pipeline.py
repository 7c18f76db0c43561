"""The pipeline config (``pipeline.yml``): every source, its topic and raw table.

Validated on load so that a typo fails with the file, the source and the field,
not with a KeyError deep in a produce loop.
"""
from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.registry import Schema, SchemaRegistry, load_registry
from streammart.contract import landing_problems, raw_table_name, topic_name
from streammart.settings import PROJECT_ROOT, get_settings

DEFAULT_CONFIG = PROJECT_ROOT / "pipeline.yml"
IDENTIFIER = r"^[a-z][a-z0-9_]*$"
_ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)\}")


class PipelineConfigError(ValueError):
    """pipeline.yml is missing, not YAML, or does not describe a valid pipeline."""


class Pagination(BaseModel):
    """Page-numbered JSON API: ``?page=N&per_page=M``, items under ``items_field``."""

    model_config = ConfigDict(extra="forbid")
    page_param: str = "page"
    size_param: str = "per_page"
    page_size: int = Field(100, gt=0, le=10_000)
    first_page: int = 1
    items_field: str = "data"


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=IDENTIFIER)]
    domain: Annotated[str, Field(pattern=IDENTIFIER)]
    entity: Annotated[str, Field(pattern=IDENTIFIER)]
    schema_name: str = Field(alias="schema")
    format: Literal["csv", "json", "ndjson", "http"]
    path: Path | None = None
    url: str | None = None
    encoding: str = "utf-8-sig"
    pagination: Pagination | None = None
    key: list[str] = Field(min_length=1)
    event_time: str | None = None
    columns: dict[str, str] = Field(default_factory=dict, description="source column -> schema field")
    date_formats: list[str] = Field(default_factory=lambda: ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"])

    @model_validator(mode="after")
    def _location_matches_format(self) -> "SourceConfig":
        if self.format == "http":
            if not self.url:
                raise ValueError("an http source needs `url`")
            self.pagination = self.pagination or Pagination()
        elif not self.path:
            raise ValueError(f"a {self.format} source needs `path`")
        return self

    @field_validator("path")
    @classmethod
    def _relative_to_project(cls, value: Path | None) -> Path | None:
        return value if value is None or value.is_absolute() else PROJECT_ROOT / value

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


def _check_against_schemas(config: PipelineConfig, registry: SchemaRegistry, path: Path) -> None:
    for s in config.sources:
        try:
            schema = registry.get(s.schema_name)
        except ValueError as exc:
            raise PipelineConfigError(f"{path}: source {s.name!r}: {exc}") from None
        fields = set(schema.field_names)
        for label, names in (("key", s.key), ("event_time", [s.event_time] if s.event_time else []),
                             ("columns", list(s.columns.values()))):
            missing = [n for n in names if n not in fields]
            if missing:
                raise PipelineConfigError(
                    f"{path}: source {s.name!r}: {label} names fields not in {schema.name}: {', '.join(missing)}"
                )


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
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {where}: {err['msg']}")
        raise PipelineConfigError("\n".join(lines)) from None
    _check_against_schemas(config, load_registry(), path)
    problems = landing_problems(config.sources)
    if problems:
        raise PipelineConfigError("\n  ".join([f"{path}: these sources cannot land as configured:", *problems]))
    return config
