"""Quix Streams landing the bench's orders topic in Postgres with its ``PostgreSQLSink``.

A peer in ``bench/peers.py``: it reads the very events the worker lands (the project's
single-object Avro encoding: a 2-byte marker, an 8-byte fingerprint, the binary body)
and writes typed columns, as a user of Quix Streams would set it up. It runs in its own
virtual environment (``bench/.venv-quix`` from ``bench/requirements-quix.lock``: Quix
Streams pins its own confluent-kafka), so it imports nothing of the project.

    bench/.venv-quix/bin/python bench/quix_sink.py < settings.json

Settings (JSON on standard input, so the password is not on the command line): broker, topic, group, schema (path of the .avsc), state_dir, host, port,
dbname, user, password, schema_name, table.
"""
from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import fastavro
from quixstreams import Application
from quixstreams.models.serializers import Deserializer
from quixstreams.sinks.community.postgresql import PostgreSQLSink

HEADER_LEN = 10  # C3 01 marker + 8-byte schema fingerprint


class SingleObjectAvro(Deserializer):
    """A value in the project's wire format, read with the contract's own schema."""

    def __init__(self, schema_path: str) -> None:
        super().__init__()
        self._schema = fastavro.parse_schema(json.loads(Path(schema_path).read_text()))

    def __call__(self, value: bytes, ctx: Any) -> dict[str, Any]:
        return fastavro.schemaless_reader(io.BytesIO(value[HEADER_LEN:]), self._schema)


def main(settings: dict[str, Any]) -> None:
    app = Application(broker_address=settings["broker"], consumer_group=settings["group"],
                      auto_offset_reset="earliest", state_dir=settings["state_dir"])
    topic = app.topic(settings["topic"], value_deserializer=SingleObjectAvro(settings["schema"]),
                      key_deserializer="string")
    sink = PostgreSQLSink(host=settings["host"], port=settings["port"], dbname=settings["dbname"],
                          user=settings["user"], password=settings["password"], table_name=settings["table"],
                          schema_name=settings["schema_name"], schema_auto_update=True)
    app.dataframe(topic).sink(sink)
    app.run()


if __name__ == "__main__":
    main(json.load(sys.stdin))
