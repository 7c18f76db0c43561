"""The drug mentions marts computed here, straight from the sample files, by the rules the marts promise.

Deliberately written without the pipeline's code: Python's csv and json modules,
its own escape decoding and date reading, a whole-word regular expression.
"""
from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

ESCAPES = re.compile(r"(?:\\x[0-9A-Fa-f]{2})+")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y")


def decoded(text: str | None) -> str | None:
    """Escaped UTF-8 bytes decoded, trimmed, blank as None."""
    def one_run(match: re.Match) -> str:
        try:
            return bytes.fromhex(match.group().replace("\\x", "")).decode("utf-8")
        except UnicodeDecodeError:
            return match.group()

    cleaned = ESCAPES.sub(one_run, text or "").strip()
    return cleaned or None


def read_date(text: str) -> date | None:
    for spelling in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), spelling).date()
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class Edge:
    atccode: str
    drug_name: str
    publication_kind: str
    publication_id: str
    title: str
    journal: str | None
    published_on: date | None


def publications(folder: Path) -> list[tuple[str, str, str | None, str | None, date | None]]:
    """(kind, id, title, journal, date) of every publication with an id; the last record of an id wins."""
    with (folder / "pubmed.csv").open(newline="", encoding="utf-8") as handle:
        pubmed = [(r["id"], r["title"], r["journal"], r["date"]) for r in csv.DictReader(handle)]
    json_text = re.sub(r",\s*\]\s*$", "]", (folder / "pubmed.json").read_text(encoding="utf-8"))
    pubmed += [(str(r["id"]), r["title"], r["journal"], r["date"]) for r in json.loads(json_text)]
    with (folder / "clinical_trials.csv").open(newline="", encoding="utf-8") as handle:
        trials = [(r["id"], r["scientific_title"], r["journal"], r["date"]) for r in csv.DictReader(handle)]
    latest = {}
    for kind, records in (("pubmed", pubmed), ("clinical_trial", trials)):
        for pid, title, journal, day in records:
            if pid and pid.strip():
                latest[(kind, pid.strip())] = (decoded(title), decoded(journal), read_date(day or ""))
    return [(kind, pid, *values) for (kind, pid), values in latest.items()]


def drugs(folder: Path) -> dict[str, str]:
    with (folder / "drugs.csv").open(newline="", encoding="utf-8") as handle:
        return {r["atccode"].strip(): r["drug"].strip() for r in csv.DictReader(handle)}


def mentions(folder: Path) -> set[Edge]:
    edges = set()
    for atccode, name in drugs(folder).items():
        pattern = re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE)
        for kind, pid, title, journal, day in publications(folder):
            if title and pattern.search(title):
                edges.add(Edge(atccode, name, kind, pid, title, journal, day))
    return edges


def journal_drugs(edges: set[Edge]) -> dict[str, set[str]]:
    by_journal = defaultdict(set)
    for edge in edges:
        if edge.journal:
            by_journal[edge.journal].add(edge.atccode)
    return by_journal


def top_journals(edges: set[Edge]) -> set[str]:
    """The journals mentioning the most distinct drugs (all of them when tied)."""
    by_journal = journal_drugs(edges)
    most = max(len(codes) for codes in by_journal.values())
    return {journal for journal, codes in by_journal.items() if len(codes) == most}


def pubmed_only_related(edges: set[Edge]) -> dict[tuple[str, str], set[str]]:
    """(drug, related drug) → journals that mention the drug and mention the related drug in PubMed only."""
    kinds = defaultdict(set)
    for edge in edges:
        if edge.journal:
            kinds[(edge.journal, edge.atccode)].add(edge.publication_kind)
    related = defaultdict(set)
    for (journal, drug), _ in kinds.items():
        for (other_journal, other), other_kinds in kinds.items():
            if other_journal == journal and other != drug and other_kinds == {"pubmed"}:
                related[(drug, other)].add(journal)
    return dict(related)


def graph_document(edges: set[Edge]) -> dict:
    """The exported JSON document: drugs by code, their mentions by date then id, journals by name."""
    drugs = {}
    for edge in sorted(edges, key=lambda e: (e.published_on or date.min, e.publication_id)):
        drug = drugs.setdefault(edge.atccode, {"atccode": edge.atccode, "drug": edge.drug_name, "pubmed": [],
                                               "clinical_trials": [], "journals": defaultdict(set)})
        kind = "pubmed" if edge.publication_kind == "pubmed" else "clinical_trials"
        drug[kind].append({"id": edge.publication_id, "title": edge.title, "journal": edge.journal,
                           "date": edge.published_on.isoformat() if edge.published_on else None})
        if edge.journal:
            drug["journals"][edge.journal].add(edge.published_on.isoformat())
    for drug in drugs.values():
        drug["journals"] = [{"journal": j, "dates": sorted(days)} for j, days in sorted(drug["journals"].items())]
    counts = {journal: len(codes) for journal, codes in journal_drugs(edges).items()}
    ranks = {journal: 1 + sum(other > n for other in counts.values()) for journal, n in counts.items()}
    journals = sorted(counts, key=lambda j: (ranks[j], j))
    return {"drugs": [drugs[code] for code in sorted(drugs)],
            "journals": [{"journal": j, "distinct_drugs": counts[j], "rank": ranks[j]} for j in journals],
            "top_journals": sorted(top_journals(edges))}
