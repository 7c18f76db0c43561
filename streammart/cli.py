"""``streammart``: the end-to-end demo and a hand-run dbt cycle."""
from __future__ import annotations

import logging
import sys

import click
from rich.logging import RichHandler

from stack.processes import StackError
from streammart.terminal import make_console


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """streammart: streaming ingestion with dbt micro-batches.

    The parts have their own commands: `streammart-stack` (local services),
    `producers` (replay sources into Kafka), `stream-processors` (landing worker),
    `python -m streammart.dbt_cycle` (one dbt cycle).
    """
    logging.basicConfig(level=logging.INFO, format="%(message)s", datefmt="%H:%M:%S",
                        handlers=[RichHandler(console=make_console(stderr=True), show_path=False)])


@main.command()
def demo() -> None:
    """Start the stack, replay the sample data, land it and build the marts with Airflow."""
    from streammart.demo import run_demo

    console = make_console()
    try:
        run_demo(console)
    except StackError as exc:
        console.print(f"[red]demo failed:[/] {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
