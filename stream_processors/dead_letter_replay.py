"""List dead letters and send chosen ones back to their topic once the cause is fixed.

A replay is done at most once per letter, and a letter is never replayed twice:
the letter is claimed (``replayed_at`` set) in a committed transaction before
it is produced, and its new position (``replayed_to``) is recorded once Kafka
acknowledged it. A failed send releases the claim. A run killed between the two
leaves the letter claimed without a position: it is listed as ``unknown`` and
only replayed again on request (``--include-unknown``), after checking the topic
for a message whose ``replay_of`` header names it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from confluent_kafka import KafkaError, Message, Producer
from psycopg import sql
from psycopg.rows import class_row

from streammart.contract import DEAD_LETTERS_TABLE, RAW_SCHEMA

#: Header of a replayed message naming the letter it came from (``topic/partition/offset``).
REPLAY_OF_HEADER = "replay_of"

_LETTER = sql.Identifier(RAW_SCHEMA, DEAD_LETTERS_TABLE)


@dataclass(frozen=True)
class LetterFilter:
    """Which dead letters a command is about; every criterion given must hold."""

    ids: tuple[int, ...] = ()
    topic: str | None = None
    stage: str | None = None
    reason: str | None = None  # a case-insensitive part of the error
    since: datetime | None = None
    state: str | None = None  # pending | replayed | unknown

    def where(self) -> sql.Composable:
        clauses: list[sql.Composable] = [sql.SQL("true")]
        if self.ids:
            clauses.append(sql.SQL("id = ANY({})").format(sql.Literal(list(self.ids))))
        for column, value in (("topic", self.topic), ("stage", self.stage)):
            if value is not None:
                clauses.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Literal(value)))
        if self.reason is not None:
            clauses.append(sql.SQL("strpos(lower(error), lower({})) > 0").format(sql.Literal(self.reason)))
        if self.since is not None:
            clauses.append(sql.SQL("at >= {}").format(sql.Literal(self.since)))
        if self.state is not None:
            clauses.append(sql.SQL("{} = {}").format(STATE, sql.Literal(self.state)))
        return sql.SQL(" AND ").join(clauses)


STATE = sql.SQL("CASE WHEN replayed_at IS NULL THEN 'pending' "
                "WHEN replayed_to IS NULL THEN 'unknown' ELSE 'replayed' END")


@dataclass(frozen=True)
class LetterRow:
    id: int
    at: datetime
    topic: str
    partition: int
    offset: int
    stage: str
    error: str
    size: int
    state: str
    replayed_to: str | None


@dataclass(frozen=True)
class LetterGroup:
    topic: str
    stage: str
    reason: str
    letters: int
    pending: int
    latest: datetime


def list_letters(conn: psycopg.Connection, chosen: LetterFilter, limit: int) -> list[LetterRow]:
    """The newest ``limit`` letters that match, newest first."""
    query = sql.SQL('SELECT id, at, topic, partition, "offset", stage, error, coalesce(length(value), 0) AS size, '
                    "{state} AS state, replayed_to FROM {table} WHERE {where} ORDER BY at DESC, id DESC LIMIT {limit}"
                    ).format(state=STATE, table=_LETTER, where=chosen.where(), limit=sql.Literal(limit))
    with conn.cursor(row_factory=class_row(LetterRow)) as cur:
        return cur.execute(query).fetchall()


def group_letters(conn: psycopg.Connection, chosen: LetterFilter) -> list[LetterGroup]:
    """Counts by topic, stage and reason (the error's first line), most recent first."""
    query = sql.SQL("SELECT topic, stage, split_part(error, E'\\n', 1) AS reason, count(*) AS letters, "
                    "count(*) FILTER (WHERE replayed_at IS NULL) AS pending, max(at) AS latest FROM {table} "
                    "WHERE {where} GROUP BY 1, 2, 3 ORDER BY latest DESC").format(table=_LETTER, where=chosen.where())
    with conn.cursor(row_factory=class_row(LetterGroup)) as cur:
        return cur.execute(query).fetchall()


@dataclass(frozen=True)
class Claimed:
    """A letter taken for replay: what goes back on its topic."""

    id: int
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str] | None

    @property
    def origin(self) -> str:
        return f"{self.topic}/{self.partition}/{self.offset}"

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        original = {k: v for k, v in (self.headers or {}).items() if k != REPLAY_OF_HEADER}
        return [(k, v.encode()) for k, v in original.items()] + [(REPLAY_OF_HEADER, self.origin.encode())]


@dataclass
class ReplayResult:
    replayed: list[tuple[int, str]]  # (letter id, new position)
    failed: list[tuple[int, str]]  # (letter id, error): released, still pending
    skipped: int  # matched but already replayed or claimed
    unknown: list[int] = field(default_factory=list)  # not acknowledged in time: left claimed


def claim(conn: psycopg.Connection, chosen: LetterFilter, include_unknown: bool) -> tuple[list[Claimed], int]:
    """Mark the matching pending letters as being replayed and commit; returns them and how many were skipped."""
    states = ["pending", "unknown"] if include_unknown else ["pending"]
    with conn.transaction():
        matched = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(_LETTER, chosen.where())).fetchone()[0]
        with conn.cursor(row_factory=class_row(Claimed)) as cur:
            claimed = cur.execute(sql.SQL(
                'UPDATE {table} SET replayed_at = clock_timestamp(), replayed_to = NULL '
                "WHERE {where} AND {state} = ANY({states}) "
                'RETURNING id, topic, partition, "offset", key, value, headers').format(
                table=_LETTER, where=chosen.where(), state=STATE, states=sql.Literal(states))).fetchall()
    return sorted(claimed, key=lambda c: c.id), matched - len(claimed)


def _record(conn: psycopg.Connection, letter_id: int, position: str | None) -> None:
    """The new position of a replayed letter, or (None) the claim released after a failed send."""
    if position is None:
        conn.execute(sql.SQL("UPDATE {} SET replayed_at = NULL WHERE id = %s").format(_LETTER), (letter_id,))
    else:
        conn.execute(sql.SQL("UPDATE {} SET replayed_to = %s WHERE id = %s").format(_LETTER), (position, letter_id))


def replay(conn: psycopg.Connection, kafka_config: dict[str, Any], chosen: LetterFilter,
           include_unknown: bool = False, timeout: float = 60) -> ReplayResult:
    """Send the chosen letters' original key, value and headers back to their original topic."""
    letters, skipped = claim(conn, chosen, include_unknown)
    result = ReplayResult([], [], skipped)
    if not letters:
        return result
    producer = Producer({**kafka_config, "enable.idempotence": True, "acks": "all"})
    outcome: dict[int, tuple[str | None, str]] = {}

    def delivered(letter_id: int):
        def report(err: KafkaError | None, msg: Message) -> None:
            outcome[letter_id] = ((None, str(err)) if err else
                                  (f"{msg.topic()}/{msg.partition()}/{msg.offset()}", ""))
        return report

    for letter in letters:
        producer.produce(letter.topic, key=letter.key, value=letter.value, headers=letter.kafka_headers(),
                         on_delivery=delivered(letter.id))
    producer.flush(timeout)
    with conn.transaction():
        for letter in letters:
            if letter.id not in outcome:  # may still be delivered: left claimed rather than risk a second copy
                result.unknown.append(letter.id)
                continue
            position, error = outcome[letter.id]
            _record(conn, letter.id, position)
            if position:
                result.replayed.append((letter.id, position))
            else:
                result.failed.append((letter.id, error))
    return result
