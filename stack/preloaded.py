"""``python -m stack.preloaded airflow <command> [args]``: an Airflow command run with dbt already imported.

The local stack starts Airflow's scheduler this way. Its LocalExecutor forks every
task process from the scheduler, so each dbt cycle task starts with dbt and the
Postgres adapter loaded instead of spending 3–4 s importing them (a third of a
quiet event-driven cycle). The other components never run dbt and start as usual.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

from streammart.dbt_cycle import import_dbt

USAGE = "usage: python -m stack.preloaded airflow <command> [args]"


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["airflow"] or len(args) < 2:
        raise SystemExit(USAGE)
    import_dbt()
    from airflow.__main__ import main as airflow_main

    sys.argv = args
    airflow_main()


if __name__ == "__main__":
    main()
