"""Quarantine and promotion on the real stack: a referral that arrives before its patient is held, then
released by the cycle after the patient lands, exactly once; one whose patient never comes stays held."""
from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from streammart.contract import RAW_SCHEMA, raw_table_name
from streammart.dbt_cycle import run_cycle
from streammart.quarantine import held_rows, rule_counts
from streammart.settings import PROJECT_ROOT
from tests.integration.conftest import BIN, Scratch
from tests.integration.msk_landing import msk_landed, produce_and_land  # noqa: F401  (fixture)

pytestmark = pytest.mark.services
RULE = "referral_patient_exists"
CYCLES = 10
#: the cycles after the first two only rebuild what holds and releases referrals
NARROW = "fct_quarantined_rows fct_msk__referrals"
REFERRALS_HEADER = "referral_id,patient_id,referring_npi,referred_npi,referred_on,status,converted_on"
PATIENTS_HEADER = "patient_id,employer_id,date_of_birth,sex,enrolled_on"


def sample_npis() -> list[str]:
    lines = (PROJECT_ROOT / "data" / "msk" / "providers.csv").read_text().splitlines()[1:]
    return [line.split(",")[0] for line in lines if len(line.split(",")[0]) == 10][:2]


@pytest.fixture
def tag(msk_landed, running_stack) -> Iterator[str]:  # noqa: F811
    """A unique id prefix; every msk row and quarantine episode carrying it is removed afterwards."""
    tag = f"zt{uuid.uuid4().hex[:8]}"
    yield tag
    with psycopg.connect(running_stack.conninfo("admin"), autocommit=True) as conn:
        for entity, key in (("referrals", "referral_id"), ("patients", "patient_id")):
            conn.execute(sql.SQL("DELETE FROM {} WHERE {} LIKE %s").format(
                sql.Identifier(RAW_SCHEMA, raw_table_name("msk", entity)), sql.Identifier(key)), (f"%{tag}%",))
        conn.execute("DELETE FROM marts.fct_msk__referrals WHERE referral_id LIKE %s", (f"{tag}%",))
        conn.execute("DELETE FROM marts.fct_quarantined_rows WHERE record_key LIKE %s", (f"{tag}%",))


def land_csv(settings, tmp: Path, entity: str, header: str, lines: list[str]) -> None:
    folder = tmp / entity
    folder.mkdir()
    (folder / f"{entity}.csv").write_text("\n".join([header, *lines]) + "\n")
    produce_and_land(settings, Scratch("msk", folder), folder, (entity,), app_id="test-msk-landing")


def episodes(conn: psycopg.Connection, tag: str) -> list[tuple]:
    return conn.execute(
        "SELECT record_key, rule, reason, _topic, _source_position, quarantined_at, promoted_at, checks_failed "
        "FROM marts.fct_quarantined_rows WHERE record_key LIKE %s ORDER BY record_key, quarantined_at",
        (f"{tag}%",)).fetchall()


def in_mart(conn: psycopg.Connection, tag: str) -> list[str]:
    return [r for (r,) in conn.execute("SELECT referral_id FROM marts.fct_msk__referrals WHERE referral_id LIKE %s "
                                       "ORDER BY referral_id", (f"{tag}%",)).fetchall()]


def cycle(select: str = "source:msk+") -> None:
    result = run_cycle(select=select)
    assert result.status == "success", result.as_dict()


@pytest.mark.timeout(900)  # ten real dbt cycles and two landings, on a shared 2-core machine
def test_referral_before_its_patient_is_held_then_promoted_once(tag, running_stack, tmp_path):
    referring, referred = sample_npis()
    early, orphan, patient = f"{tag}-R1", f"{tag}-R2", f"{tag}-P1"
    land_csv(running_stack, tmp_path, "referrals", REFERRALS_HEADER, [
        f'{early},"=""{patient}""",{referring},{referred},2024-05-02,completed,2024-05-09',
        f"{orphan},{tag}-P404,{referring},{referred},2024-05-03,pending,",
    ])
    with psycopg.connect(running_stack.conninfo("reader"), autocommit=True) as conn:
        cycle()
        held_with_both = {c.rule: c.held for c in rule_counts(conn, "msk")}[RULE]
        held = episodes(conn, tag)
        assert [(k, r, reason, topic, position, promoted) for k, r, reason, topic, position, _, promoted, _
                in held] == [
            (early, RULE, f"patient_id '{patient}' not found in stg_msk__patients", "msk.referrals.v1",
             "referrals.csv:2", None),
            (orphan, RULE, f"patient_id '{tag}-P404' not found in stg_msk__patients", "msk.referrals.v1",
             "referrals.csv:3", None),
        ]
        assert in_mart(conn, tag) == []

        land_csv(running_stack, tmp_path, "patients", PATIENTS_HEADER, [f"{patient},EMP01,1980-01-01,F,2023-06-01"])
        cycle()
        (early_episode, orphan_episode) = episodes(conn, tag)
        promoted_at = early_episode[6]
        assert isinstance(promoted_at, datetime) and orphan_episode[6] is None
        assert in_mart(conn, tag) == [early]
        converted = conn.execute("SELECT is_converted, employer_id FROM marts.fct_msk__referrals "
                                 "WHERE referral_id = %s", (early,)).fetchone()
        assert converted == (True, "EMP01")

        for _ in range(CYCLES - 2):
            cycle(NARROW)
        final = episodes(conn, tag)
        assert len(final) == 2, "an episode was opened twice"
        assert final[0][6] == promoted_at, "a promotion was recorded again"
        assert final[1][6] is None and final[1][7] == CYCLES
        assert in_mart(conn, tag) == [early]
        assert {c.rule: c.held for c in rule_counts(conn, "msk")}[RULE] == held_with_both - 1
        assert [r.record_key for r in held_rows(conn, "msk", RULE) if r.record_key.startswith(tag)] == [orphan]

    listed = subprocess.run([BIN / "streammart", "quarantine", "--domain", "msk", "--rule", RULE, "--rows"],
                            capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert listed.returncode == 0, listed.stderr
    assert f"{held_with_both - 1} held, " in listed.stdout and RULE in listed.stdout
    assert "referrals.csv:3" in listed.stdout, "the held record's source position is listed"
