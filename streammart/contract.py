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
from typing import Protocol

from schemas.postgres_types import Column

# ------------------------------------------------------------------------ Kafka

#: The landing workers' Faust app id, hence their Kafka consumer group.
LANDING_GROUP = "streammart-landing"

#: One message per landed batch (at most one every few seconds); Airflow watches it.
CONTROL_TOPIC = "streammart.control.landed"


def topic_name(domain: str, entity: str, major: int) -> str:
    """``<domain>.<entity>.v<major>``: an incompatible contract change is a new topic."""
    return f"{domain}.{entity}.v{major}"


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
#: Set by Postgres (``clock_timestamp()`` at insert), not by the worker; dbt's watermarks read it.
LANDED_AT = Column("_landed_at", "timestamptz", False)

#: The metadata the worker writes with each row (COPY columns after the contract's fields).
WRITTEN_METADATA: tuple[Column, ...] = (EVENT_ID, TOPIC, PARTITION, OFFSET, KEY, SCHEMA_FINGERPRINT, EVENT_TIME,
                                        PRODUCED_AT)

#: Every metadata column of a raw table, in table order.
METADATA_COLUMNS: tuple[Column, ...] = (*WRITTEN_METADATA, LANDED_AT)

#: A Kafka position lands at most once: the raw tables are unique on these.
POSITION_COLUMNS: tuple[Column, ...] = (TOPIC, PARTITION, OFFSET)

_METADATA_NAMES = frozenset(c.name for c in METADATA_COLUMNS)


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
    """Sources publishing one topic under different contracts: the worker reads a topic with one."""
    return [
        f"sources {', '.join(repr(s.name) for s in group)} publish topic {topic} with different `schema` "
        f"({', '.join(sorted({s.schema.name for s in group}))}): a topic carries one contract"
        for topic, group in _grouped(sources, lambda s: s.topic).items() if len({s.schema.name for s in group}) > 1
    ]


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
