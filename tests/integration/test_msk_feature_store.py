"""The msk feature store on the real stack: a read as of T ignores what changed after T."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from streammart.contract import RAW_SCHEMA, raw_table_name
from streammart.dbt_cycle import run_cycle
from tests.integration.conftest import Scratch
from tests.integration.msk_landing import msk_landed, produce_and_land  # noqa: F401  (fixture)

pytestmark = pytest.mark.services
FEATURES_AS_OF = ("SELECT encounters_30d, encounters_90d, referrals_count FROM marts.fs_msk__patient_features "
                  "WHERE patient_id = %s AND valid_from <= %s AND (valid_to IS NULL OR valid_to > %s)")
ENCOUNTERS_HEADER = "encounter_id,patient_id,npi,encounter_date,encounter_type,amount"
ENTITY_KEYS = (("encounters", "encounter_id"), ("patients", "patient_id"), ("adverse_events", "adverse_event_id"))


@pytest.fixture
def patient(msk_landed, running_stack) -> Iterator[str]:  # noqa: F811
    """A new patient id; its rows are removed from raw, the marts and the feature history afterwards."""
    patient = f"zt{uuid.uuid4().hex[:8]}-P"
    yield patient
    with psycopg.connect(running_stack.conninfo("admin"), autocommit=True) as conn:
        for entity, key in ENTITY_KEYS:
            conn.execute(sql.SQL("DELETE FROM {} WHERE {} LIKE %s").format(
                sql.Identifier(RAW_SCHEMA, raw_table_name("msk", entity)), sql.Identifier(key)), (f"{patient}%",))
        for table in ("fct_msk__encounters", "fct_msk__adverse_events"):
            conn.execute(sql.SQL("DELETE FROM {} WHERE patient_id = %s").format(sql.Identifier("marts", table)),
                         (patient,))
        conn.execute("DELETE FROM snapshots.snap_msk__patient_features WHERE patient_id = %s", (patient,))


def land_csv(settings, folder: Path, entity: str, text: str) -> None:
    folder.mkdir()
    (folder / f"{entity}.csv").write_text(text)
    produce_and_land(settings, Scratch("msk", folder), folder, (entity,), app_id="test-msk-landing")


def build() -> None:
    result = run_cycle(select="source:msk+")
    assert result.status == "success", result.as_dict()


def test_features_read_as_of_t_ignore_a_later_encounter(patient, running_stack, tmp_path):
    with psycopg.connect(running_stack.conninfo("reader"), autocommit=True) as conn:
        build()
        day, npi = conn.execute("SELECT max(encounter_date), min(npi) FROM marts.fct_msk__encounters").fetchone()
        land_csv(running_stack, tmp_path / "patients", "patients",
                 f"patient_id,employer_id,date_of_birth,sex,enrolled_on\n{patient},EMP01,1980-01-01,M,2023-06-01\n")
        land_csv(running_stack, tmp_path / "first", "encounters",
                 f"{ENCOUNTERS_HEADER}\n{patient}-E1,{patient},{npi},{day},evaluation,100.00\n")
        build()
        as_of_t = conn.execute("SELECT localtimestamp").fetchone()[0]
        assert conn.execute(FEATURES_AS_OF, (patient, as_of_t, as_of_t)).fetchall() == [(1, 1, 0)]

        land_csv(running_stack, tmp_path / "later", "encounters",
                 f"{ENCOUNTERS_HEADER}\n{patient}-E2,{patient},{npi},{day},follow_up,80.00\n")
        build()
        now = conn.execute("SELECT localtimestamp").fetchone()[0]
        assert conn.execute(FEATURES_AS_OF, (patient, now, now)).fetchall() == [(2, 2, 0)]
        assert conn.execute(FEATURES_AS_OF, (patient, as_of_t, as_of_t)).fetchall() == [(1, 1, 0)]
        versions = conn.execute("SELECT count(*), count(*) FILTER (WHERE valid_to IS NULL) "
                                "FROM marts.fs_msk__patient_features WHERE patient_id = %s", (patient,)).fetchone()
        assert versions == (2, 1)

        land_csv(running_stack, tmp_path / "event", "adverse_events",
                 "adverse_event_id,patient_id,npi,occurred_on,severity,description\n"
                 f"{patient}-A1,{patient},{npi},{day},severe,fall during exercise\n")
        build()
        training = conn.execute("SELECT encounters_30d, had_adverse_event_before, features_valid_from "
                                "FROM marts.fs_msk__adverse_event_training_set WHERE patient_id = %s",
                                (patient,)).fetchall()
        # the label landed after the second version was computed: that version, without the event, is its features
        assert len(training) == 1 and training[0][:2] == (2, False) and isinstance(training[0][2], datetime)
        current = conn.execute(FEATURES_AS_OF.replace("referrals_count", "has_severe_adverse_event"),
                               (patient, datetime.max, datetime.max)).fetchall()
        assert current == [(2, 2, True)]
