"""The msk sample: reproduced byte for byte by its generator, each kind of dirt where the generator says."""
import csv
import io

import pytest

from producers.samples import msk
from streammart.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "data" / "msk"


def rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((SHIPPED / name).read_text(encoding="utf-8"), newline="")))


def test_generator_reproduces_the_shipped_sample(tmp_path):
    written = msk.write_sample(tmp_path)
    assert {p.name for p in written} == set(msk.FILES)
    for name in msk.FILES:
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name


def test_scale_multiplies_the_rows(tmp_path):
    one, three = msk.write_sample(tmp_path / "1"), msk.write_sample(tmp_path / "3", scale=3)
    assert sum(three.values()) > 2.5 * sum(one.values())


@pytest.mark.parametrize("name", list(msk.FILES))
def test_line_endings_and_final_newline_as_declared(name):
    data = (SHIPPED / name).read_bytes()
    _, line_end, final_newline = msk.FILES[name]
    crlf = data.count(b"\r\n")
    if line_end == "\r\n":
        assert crlf == data.count(b"\n") > 0
    else:
        assert crlf == 0
    assert data.endswith(line_end.encode()) is final_newline


def test_both_line_endings_occur_across_files():
    assert {end for _, end, _ in msk.FILES.values()} == {"\r\n", "\n"}
    assert not all(final for *_, final in msk.FILES.values())


def test_npis_empty_truncated_and_unknown():
    providers = rows("providers.csv")
    assert sum(1 for r in providers if r["npi"] == "") == msk.BAD_ROWS["providers.csv"]
    assert sum(1 for r in providers if len(r["npi"]) == 9) == msk.TRUNCATED_PROVIDER_NPIS
    encounters = [r for r in rows("encounters.csv") if not r["encounter_id"].startswith("EN9")]
    assert sum(1 for r in encounters if r["npi"] == "") == len(encounters) // msk.EMPTY_NPI_EVERY
    assert sum(1 for r in encounters if len(r["npi"]) == 9) == len(encounters) // msk.TRUNCATED_NPI_EVERY
    listed = {r["npi"] for r in providers}
    referenced = {r["npi"] for r in encounters} | {r["referred_npi"] for r in rows("referrals.csv")}
    assert referenced - listed - {"", None} >= set(msk.unknown_npis(60))
    assert not set(msk.unknown_npis(60)) & listed


def test_in_network_npis_packed_in_one_quoted_field():
    text = (SHIPPED / "network_providers.csv").read_text()
    network = rows("network_providers.csv")
    assert len(network) == len(msk.EMPLOYERS)
    assert all(text.count(f'{r["employer_name"]},"') == 1 for r in network)
    packed = [[npi.strip() for npi in r["in_network_npis"].split(",")] for r in network]
    assert all(len(npis) > 10 for npis in packed)
    assert sum(npis.count("") for npis in packed) == 1
    assert sum(1 for npis in packed for npi in npis if len(npi) == 9) > 0


def test_ids_padded_excel_style():
    patients = rows("patients.csv")
    padded = [r["patient_id"] for r in patients if r["patient_id"].startswith("=")]
    assert len(padded) == len(patients) // msk.PADDED_EVERY
    assert all(p.startswith('="PT') and p.endswith('"') for p in padded)
    assert '"=""PT00025"""' in (SHIPPED / "patients.csv").read_text()


def test_referrals_and_events_for_absent_patients():
    known = {r["patient_id"].strip('="') for r in rows("patients.csv")}
    referrals = [r for r in rows("referrals.csv") if r["status"]]
    assert sum(1 for r in referrals if r["patient_id"].strip('="') not in known) == msk.ABSENT_PATIENT_REFERRALS
    events = rows("adverse_events.csv")
    assert sum(1 for r in events if r["patient_id"] not in known) == msk.ABSENT_PATIENT_EVENTS


def test_outliers_misordered_dates_and_unknown_severity():
    amounts = [float(r["amount"]) for r in rows("encounters.csv") if r["amount"] != "n/a"]
    assert sum(1 for a in amounts if a > 100_000) == msk.OUTLIERS
    assert max(a for a in amounts if a < 100_000) < 500
    misordered = [r for r in rows("referrals.csv") if r["converted_on"] and r["converted_on"] < r["referred_on"]]
    assert len(misordered) == msk.MISORDERED_REFERRALS
    severities = [r["severity"] for r in rows("adverse_events.csv")]
    assert sum(1 for s in severities if s not in msk.SEVERITIES) == msk.UNKNOWN_SEVERITIES
