"""dbt targets chosen by the environment, credentials only from it; the docs generated and served."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from streammart.dbt_cycle import DBT_PROJECT_DIR, dbt_environment, invoke_dbt
from streammart.settings import PROJECT_ROOT, Settings
from tests.integration.conftest import wait_for
from tests.integration.dashboard.servers import free_port

PROFILES = DBT_PROJECT_DIR / "profiles.yml"


def test_three_targets_whose_credentials_all_come_from_the_environment() -> None:
    profile = yaml.safe_load(PROFILES.read_text())["streammart"]
    assert profile["target"] == "{{ env_var('STREAMMART_DBT_TARGET', 'dev') }}"
    assert set(profile["outputs"]) == {"dev", "ci", "prod"}
    for name, output in profile["outputs"].items():
        assert re.fullmatch(r"\{\{ env_var\('STREAMMART_PG_TRANSFORM_PASSWORD'\) \}\}", output["password"]), name
    prod = profile["outputs"]["prod"]
    assert all("env_var('STREAMMART_PG_" in str(prod[key]) and "," not in str(prod[key])
               for key in ("host", "port", "dbname")), "prod has no local defaults to fall back on"


def debug(settings: Settings, tmp_path: Path) -> bool:
    """``dbt debug --connection``: can the target the environment names connect?"""
    with dbt_environment(settings):
        return invoke_dbt(["debug", "--connection", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                           str(DBT_PROJECT_DIR), "--log-path", str(tmp_path)]).success


@pytest.mark.services
def test_the_target_is_the_one_the_environment_names(stack_settings: Settings, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert debug(stack_settings.model_copy(update={"dbt_target": "ci"}), tmp_path)
    # prod insists on TLS, which the local stack's Postgres does not offer: the connection is refused
    monkeypatch.delenv("STREAMMART_PG_SSLMODE", raising=False)
    assert not debug(stack_settings.model_copy(update={"dbt_target": "prod"}), tmp_path)
    monkeypatch.setenv("STREAMMART_PG_SSLMODE", "disable")
    assert debug(stack_settings.model_copy(update={"dbt_target": "prod"}), tmp_path)


@pytest.mark.services
def test_the_docs_are_generated_and_served_on_loopback(stack_settings: Settings) -> None:
    port = free_port()
    server = subprocess.Popen([Path(sys.executable).parent / "streammart", "docs", "--serve", "--port", str(port)],
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def answers() -> bool:
            assert server.poll() is None, server.stdout.read()
            try:
                return requests.get(f"http://127.0.0.1:{port}/catalog.json", timeout=2).ok
            except requests.RequestException:
                return False

        wait_for(answers, 240, "the dbt docs to be generated and served")
        catalog = requests.get(f"http://127.0.0.1:{port}/catalog.json", timeout=5).json()
        assert "model.streammart.fct_orders" in catalog["nodes"]
        assert "dbt" in requests.get(f"http://127.0.0.1:{port}/", timeout=5).text.lower()
    finally:
        server.terminate()
        server.wait(timeout=30)
