"""Where each partition resumes: the next offset Postgres recorded with the rows.

Kafka's committed offsets are never trusted for this: a commit can run ahead of
or behind what landed (a crash between landing and committing, a commit from a
batch that was later refused). ``raw._ingest_offsets`` is written in the same
transaction as the rows, so it is exactly how far landing got. A partition with
no position yet starts at the oldest offset Kafka holds. Kafka's commits only
serve lag monitoring.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

import psycopg
from confluent_kafka import OFFSET_BEGINNING, TopicPartition
from psycopg import sql
from tenacity import Retrying, RetryCallState, retry_if_exception_type, wait_exponential

from streammart.contract import OFFSETS_TABLE, RAW_SCHEMA

log = logging.getLogger(__name__)


def landed_positions(conn: psycopg.Connection, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """Next offset to land per partition of ``topics``, as Postgres knows it."""
    cur = conn.execute(sql.SQL("SELECT topic, partition, next_offset FROM {} WHERE topic = ANY(%s)").format(
        sql.Identifier(RAW_SCHEMA, OFFSETS_TABLE)), (sorted(set(topics)),))
    return {(t, p): o for t, p, o in cur.fetchall()}


def resume_points(partitions: Iterable[TopicPartition], landed: dict[tuple[str, int], int]) -> list[TopicPartition]:
    """``partitions`` each positioned where landing stopped, or at the beginning when nothing of it landed."""
    return [TopicPartition(tp.topic, tp.partition, landed.get((tp.topic, tp.partition), OFFSET_BEGINNING))
            for tp in partitions]


def positions_when_postgres_answers(conninfo: str, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """:func:`landed_positions`, retried (logged) until Postgres answers: no partition may start elsewhere."""
    def say_why(state: RetryCallState) -> None:
        log.warning("reading landed positions failed (%s), attempt %d, retrying in %.1f s",
                    state.outcome.exception(), state.attempt_number, state.next_action.sleep)

    for attempt in Retrying(retry=retry_if_exception_type(psycopg.Error), before_sleep=say_why,
                            wait=wait_exponential(multiplier=0.2, max=5)):
        with attempt, psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            return landed_positions(conn, topics)
    raise AssertionError("unreachable")
