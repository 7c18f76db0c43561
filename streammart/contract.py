"""The landing contract: every name the producers, the worker, dbt and the stack agree on.

A topic, the raw table its events land in, the bookkeeping tables, the consumer
group, the control topic and the metadata columns every raw row carries are
named here and nowhere else, so a rename is one change and two parts of the
pipeline can never disagree about where an event goes.

The checks at the end refuse, when a pipeline config is loaded, names that
would land two topics in one table or that Postgres would silently cut.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, tzinfo
from typing import Any, Protocol

from schemas.postgres_types import Column

# ------------------------------------------------------------------------ Kafka

#: The landing workers' Faust app id, hence their Kafka consumer group.
LANDING_GROUP = "streammart-landing"

#: One message per landed batch (at most one every few seconds); Airflow watches it.
CONTROL_TOPIC = "streammart.control.landed"


def topic_name(domain: str, entity: str, major: int) -> str:
    """``<domain>.<entity>.v<major>``: an incompatible contract change is a new topic."""
    return f"{domain}.{entity}.v{major}"


#: Headers every produced event carries: its source config, where it was read, its content id.
SOURCE_HEADER = "source"
SOURCE_POSITION_HEADER = "source_position"
EVENT_ID_HEADER = "event_id"


def dead_letter_topic(topic: str) -> str:
    """Where events of ``topic`` that cannot land go, with their original bytes and headers."""
    return f"{topic}.dlq"


# --------------------------------------------------------------------- Postgres

#: The schema of the raw tables and of the landing bookkeeping.
RAW_SCHEMA = "raw"

#: ``topic, partition, next_offset``: how far landing got, written with the rows.
OFFSETS_TABLE = "_ingest_offsets"

#: Every event that could not land: original bytes, headers, error, stage.
DEAD_LETTERS_TABLE = "_dead_letters"

#: Postgres keeps the first NAMEDATALEN - 1 bytes of an identifier and drops the rest.
POSTGRES_IDENTIFIER_BYTES = 63

#: Prefix of the worker's per-session staging table (``_stage_<raw table>``).
STAGING_PREFIX = "_stage_"

#: The longest raw table name whose staging table Postgres does not cut.
MAX_RAW_TABLE_BYTES = POSTGRES_IDENTIFIER_BYTES - len(STAGING_PREFIX)


def raw_table_name(domain: str, entity: str) -> str:
    """``<domain>__<entity>``, inside :data:`RAW_SCHEMA`."""
    return f"{domain}__{entity}"


def qualified(table: str) -> str:
    """``raw.<table>``, as people and the control topic name a raw table."""
    return f"{RAW_SCHEMA}.{table}"


def staging_table_name(raw_table: str) -> str:
    """The temporary table a batch is COPYed into before it is inserted into ``raw_table``."""
    return f"{STAGING_PREFIX}{raw_table}"


# ---------------------------------------------------------- metadata columns

EVENT_ID = Column("_event_id", "text", False)
TOPIC = Column("_topic", "text", False)
PARTITION = Column("_partition", "integer", False)
OFFSET = Column("_offset", "bigint", False)
KEY = Column("_key", "text", True)
SCHEMA_FINGERPRINT = Column("_schema_fingerprint", "text", False)
EVENT_TIME = Column("_event_time", "timestamptz", True)
PRODUCED_AT = Column("_produced_at", "timestamptz", True)
#: Where the producer read the record (``file:line`` or ``url page N``), from its ``source_position`` header.
SOURCE_POSITION = Column("_source_position", "text", True)
#: Set by Postgres (``clock_timestamp()`` at insert), not by the worker; dbt's watermarks read it.
LANDED_AT = Column("_landed_at", "timestamptz", False)

#: The metadata the worker writes with each row (COPY columns after the contract's fields).
WRITTEN_METADATA: tuple[Column, ...] = (EVENT_ID, TOPIC, PARTITION, OFFSET, KEY, SCHEMA_FINGERPRINT, EVENT_TIME,
                                        PRODUCED_AT, SOURCE_POSITION)

#: Every metadata column of a raw table, in table order.
METADATA_COLUMNS: tuple[Column, ...] = (*WRITTEN_METADATA, LANDED_AT)

#: A Kafka position lands at most once: the raw tables are unique on these.
POSITION_COLUMNS: tuple[Column, ...] = (TOPIC, PARTITION, OFFSET)

_METADATA_NAMES = frozenset(c.name for c in METADATA_COLUMNS)


def event_time_value(value: Any, zone: tzinfo) -> datetime | None:
    """``_event_time`` from the event-time field's value: a timestamp as it is, a date as midnight in ``zone``.

    The producers pace ``--speed`` replays by it and the worker lands it, so both
    read a date the same way (the source's ``timezone``).
    """
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(), zone)
    return None


def metadata_clashes(field_names: Iterable[str]) -> list[str]:
    """Contract fields named like a metadata column: they would be two columns of one name."""
    return [name for name in field_names if name in _METADATA_NAMES]


# ------------------------------------------------------------- config checks


class SchemaLike(Protocol):
    """What the checks need of a contract (``schemas.registry.Schema``)."""

    name: str

    @property
    def field_names(self) -> list[str]: ...


class LandedSource(Protocol):
    """What the checks need of a configured source (``streammart.pipeline.SourceConfig``)."""

    name: str
    domain: str
    entity: str
    event_time: str | None
    timezone: str

    @property
    def topic(self) -> str: ...

    @property
    def raw_table(self) -> str: ...

    @property
    def schema(self) -> SchemaLike: ...


def postgres_identifier(name: str) -> str:
    """``name`` as Postgres stores it: cut to 63 bytes (on a character boundary)."""
    return name.encode()[:POSTGRES_IDENTIFIER_BYTES].decode(errors="ignore")


def _grouped(sources: Sequence[LandedSource], key: Callable[[LandedSource], str]) -> dict[str, list[LandedSource]]:
    groups: dict[str, list[LandedSource]] = defaultdict(list)
    for source in sources:
        groups[key(source)].append(source)
    return groups


def _describe(source: LandedSource) -> str:
    return f"source {source.name!r} (domain {source.domain!r}, entity {source.entity!r}, topic {source.topic})"


def shared_table_problems(sources: Sequence[LandedSource]) -> list[str]:
    """Sources of different topics whose raw tables are one table once Postgres has cut the names.

    ``a__b`` + ``c`` and ``a`` + ``b__c`` are both ``a__b__c``; two long names sharing
    their first 63 bytes are one table too. Either way the events of two topics
    would be mixed in one table (and one contract's columns forced on the other).
    """
    return [
        f"{' and '.join(_describe(s) for s in group)} would land in one raw table {qualified(table)}: "
        "different topics need different tables; change the domain or entity of one of them"
        for table, group in _grouped(sources, lambda s: postgres_identifier(s.raw_table)).items()
        if len({s.topic for s in group}) > 1
    ]


def shared_topic_problems(sources: Sequence[LandedSource]) -> list[str]:
    """Sources publishing one topic that disagree on how it lands.

    The worker reads a topic with one contract and derives ``_event_time`` with one
    field and one time zone: sources sharing a topic must agree on all three.
    """
    problems = []
    for topic, group in _grouped(sources, lambda s: s.topic).items():
        for key, value in (("schema", lambda s: s.schema.name), ("event_time", lambda s: s.event_time),
                           ("timezone", lambda s: s.timezone)):
            values = {str(value(s)) for s in group}
            if len(values) > 1:
                problems.append(f"sources {', '.join(repr(s.name) for s in group)} publish topic {topic} with "
                                f"different `{key}` ({', '.join(sorted(values))}): a topic lands one way")
    return problems


def name_length_problems(sources: Sequence[LandedSource]) -> list[str]:
    """Raw table names Postgres would cut, counting the staging table named after them."""
    problems = []
    for source in sources:
        size = len(source.raw_table.encode())
        if size > MAX_RAW_TABLE_BYTES:
            problems.append(
                f"{_describe(source)}: its raw table name {source.raw_table!r} is {size} bytes, more than the "
                f"{MAX_RAW_TABLE_BYTES} that fit Postgres's {POSTGRES_IDENTIFIER_BYTES}-byte identifiers with "
                f"the worker's staging prefix {STAGING_PREFIX!r}: shorten the domain or entity")
    return problems


def metadata_field_problems(sources: Sequence[LandedSource]) -> list[str]:
    """Contract fields that would collide with a landing metadata column of the raw table."""
    return [
        f"source {source.name!r}: `schema` {source.schema.name} has field {field!r}, which is a landing "
        f"metadata column of every raw table ({', '.join(c.name for c in METADATA_COLUMNS)}): rename the field "
        "in the contract"
        for source in sources for field in metadata_clashes(source.schema.field_names)
    ]


def landing_problems(sources: Sequence[LandedSource]) -> list[str]:
    """Every reason the configured ``sources`` cannot land as configured (empty: they can)."""
    return [*shared_table_problems(sources), *shared_topic_problems(sources), *name_length_problems(sources),
            *metadata_field_problems(sources)]
