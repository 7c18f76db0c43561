"""What a run prints: a line per problem a person must act on, then one table of counts."""
from __future__ import annotations

from functools import partial

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from producers.replay import ReplaySummary


def summary_table(summaries: list[ReplaySummary], title: str, produced: str = "produced") -> Table:
    table = Table(title=title)
    for column in ("source", "topic", "read", produced, "rejected", "skipped", "elapsed s", "events/s", "status"):
        table.add_column(column, justify="left" if column in ("source", "topic", "status") else "right")
    for s in summaries:
        status = "[red]failed[/]" if s.failure else ("[yellow]ok, with rejects[/]" if s.rejected else "[green]ok[/]")
        table.add_row(s.source, s.topic, str(s.read), str(s.produced), str(s.rejected), str(s.skipped),
                      f"{s.elapsed:.2f}", f"{s.rate:,.0f}", status)
    return table


def report_source(console: Console, summary: ReplaySummary, schema: str) -> None:
    """Rejects, unknown columns, renames that matched nothing, undelivered events, failure."""
    name = summary.source
    say = partial(console.print, soft_wrap=True, highlight=False)  # whole lines: logs get grepped
    if summary.rejected or summary.skipped:
        say(f"[yellow]{name}: {summary.rejected} rejected, {summary.skipped} skipped[/] "
            f"(all in {escape(str(summary.rejects_file))})")
        for reject in summary.first_rejects:
            say(f"  {reject}", markup=False)
    if summary.unknown_columns:
        listed = ", ".join(f"{c!r} ({n} records)" for c, n in summary.unknown_columns.items())
        say(f"[yellow]{name}: {len(summary.unknown_columns)} column(s) not in {schema}, not "
            f"published:[/] {escape(listed)}; map them with `columns`, list them in `ignore_columns`, or add "
            "them to the contract")
    if summary.unmatched_renames:
        say(f"[yellow]{name}: `columns` keys that matched no column in this run:[/] "
            f"{escape(', '.join(summary.unmatched_renames))}")
    if summary.undelivered:
        say(f"[red]{name}: {summary.undelivered} events were not delivered to Kafka[/]")
    if not summary.accounted:
        say(f"[red]{name}: read {summary.read} ≠ produced {summary.produced} + undelivered "
            f"{summary.undelivered} + rejected {summary.rejected} + skipped {summary.skipped}[/]")
    if summary.failure:
        say(f"[red]{name}: failed:[/] {escape(summary.failure)}")
