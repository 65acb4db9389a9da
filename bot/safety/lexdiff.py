"""Show that a detector change loses nothing: decisions before and after, on every
labelled message we hold.

    python -m bot.safety.lexdiff save BASE.json.gz     # before editing the lexicon
    ... edit bot/safety/data/lexicon.yaml ...
    python -m bot.safety.lexdiff compare BASE.json.gz  # lists every changed decision
    python -m bot.safety.lexdiff compare BASE.json.gz --rules suicide.farewell abuse.hit
    python -m bot.safety.lexdiff compare BASE.json.gz --match '作文'   # after a frame edit

A snapshot holds, for each message of the dev set, every held-out set, the folded sets,
the everyday bank, the encoder's bank, the probes and the pending negatives, its label and
two decisions: the full detector's and the lexicon's alone (the lexicon is what a rule
edit changes; the full detector is what a child meets). It also keeps the lexicon it was
made with, so `--rules` can re-check only the messages an edited rule can match, before
or after the edit (minutes instead of a quarter of an hour on two cores).

`compare` prints every lost disclosure (LOST) and every new false alarm (NEWFA) of either
reading, then the counts, and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

import yaml

from ._data import DATA_DIR
from .detector import analyse
from .eval import load as load_set
from .lexicon import Lexicon, lexicon
from .normalize import normalize
from .semantic import BANK_FILE, parse_bank

REPO = Path(__file__).resolve().parents[2]
SAFETY_TESTS = REPO / "tests" / "safety"
LEXICON_FILE = "lexicon.yaml"
CHUNK = 250


class Row(NamedTuple):
    text: str
    role: str | None
    label: bool       # True: a disclosure that must escalate
    source: str


@dataclass(frozen=True)
class Change:
    kind: str         # LOST / NEWFA (worse) or FOUND / CLEARED (better)
    reading: str      # "full" or "lexicon"
    row: Row


def _jsonl_rows(path: Path) -> list[Row]:
    return [Row(r["text"], r.get("role"), bool(r["escalate"]), path.name)
            for r in load_set([str(path)])]


def _probe_rows(path: Path) -> list[Row]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line[:2] in ("0|", "1|"):
            out.append(Row(line[2:], None, line[0] == "1", path.name))
    return out


def default_files(tests: Path = SAFETY_TESTS) -> list[Path]:
    return [tests / "devset.jsonl", tests / "folded_blinds.jsonl", tests / "everyday.jsonl",
            *sorted(tests.glob("blind_v*.jsonl")), tests / "probes.txt",
            tests / "src" / "pending_negatives.txt", DATA_DIR / BANK_FILE]


def _file_rows(path: Path) -> list[Row]:
    if path.suffix == ".jsonl":
        return _jsonl_rows(path)
    if path.name == BANK_FILE:
        bank = parse_bank(path.read_text(encoding="utf-8"))
        return [Row(t, None, cat != "negative", BANK_FILE) for cat, _, t in bank]
    return _probe_rows(path)


def corpus(files: Sequence[Path] | None = None) -> list[Row]:
    """Every labelled message, deduplicated by (text, role); the first label wins.
    Files: JSON lines with `escalate`, the encoder's bank, or `1|`/`0|` lines."""
    rows: list[Row] = []
    for path in default_files() if files is None else files:
        if path.exists():
            rows += _file_rows(path)
    seen: set[tuple[str, str | None]] = set()
    unique = []
    for row in rows:
        if (row.text, row.role) not in seen:
            seen.add((row.text, row.role))
            unique.append(row)
    return unique


def _decide_one(row: Row) -> tuple[bool, bool]:
    full = analyse(row.text, row.role).escalate
    # the model layers only add evidence: a message the full detector lets pass, the
    # lexicon alone lets pass too
    return full, full and analyse(row.text, row.role, semantic=False).escalate


def _decide_chunk(rows: Sequence[Row]) -> list[tuple[bool, bool]]:
    return [_decide_one(r) for r in rows]


def decide(rows: Sequence[Row], jobs: int = 2) -> list[tuple[bool, bool]]:
    """(full, lexicon-only) escalation for each row, in order."""
    chunks = [rows[i:i + CHUNK] for i in range(0, len(rows), CHUNK)]
    if jobs <= 1 or len(chunks) <= 1:
        return [d for chunk in chunks for d in _decide_chunk(chunk)]
    with ProcessPoolExecutor(jobs) as pool:
        return [d for part in pool.map(_decide_chunk, chunks) for d in part]


def lexicon_text() -> str:
    return (DATA_DIR / LEXICON_FILE).read_text(encoding="utf-8")


def save(path: Path, rows: Sequence[Row], decisions: Sequence[tuple[bool, bool]],
         lexicon_yaml: str) -> None:
    """`lexicon_yaml`: the lexicon the decisions were made with (read before deciding:
    the file may be edited while a long run goes on)."""
    snapshot = {
        "lexicon": lexicon_yaml,
        "rows": [[*row, full, lex] for row, (full, lex) in zip(rows, decisions, strict=True)],
    }
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(snapshot, f, ensure_ascii=False)


def load(path: Path) -> tuple[str, dict[tuple[str, str | None], tuple[Row, bool, bool]]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        snapshot = json.load(f)
    rows = {}
    for text, role, label, source, full, lex in snapshot["rows"]:
        rows[(text, role)] = (Row(text, role, label, source), full, lex)
    return snapshot["lexicon"], rows


def _lexicon_of(yaml_text: str) -> Lexicon:
    return Lexicon(yaml.load(yaml_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def rule_patterns(rule_ids: Sequence[str], lexicons: Sequence[Lexicon]) -> list[re.Pattern]:
    """These rules' patterns in each of the lexicons (a row the edit stopped matching
    counts as much as one it now matches)."""
    known = [{r.id: r.regex.whole for r in lex.rules} for lex in lexicons]
    missing = [i for i in rule_ids if not any(i in k for k in known)]
    if missing:
        raise SystemExit(f"unknown rule ids: {', '.join(missing)}")
    return [k[i] for k in known for i in rule_ids if i in k]


def matching(rows: Iterable[Row], patterns: Sequence[re.Pattern]) -> list[Row]:
    """The rows any reading of which one of the patterns matches."""
    return [row for row in rows
            if any(p.search(t) for t in normalize(row.text).all_texts for p in patterns)]


def changes(before: dict[tuple[str, str | None], tuple[Row, bool, bool]], rows: Sequence[Row],
            decisions: Sequence[tuple[bool, bool]]) -> list[Change]:
    out = []
    for row, now in zip(rows, decisions, strict=True):
        if (row.text, row.role) not in before:
            continue
        _, *was = before[(row.text, row.role)]
        for reading, old, new in zip(("full", "lexicon"), was, now, strict=True):
            if old == new:
                continue
            if row.label:
                kind = "FOUND" if new else "LOST"
            else:
                kind = "NEWFA" if new else "CLEARED"
            out.append(Change(kind, reading, row))
    return out


def _report(found: list[Change], checked: int, new_rows: int) -> int:
    order = {"LOST": 0, "NEWFA": 1, "FOUND": 2, "CLEARED": 3}
    for c in sorted(found, key=lambda c: (order[c.kind], c.reading, c.row.source)):
        role = c.row.role or "-"
        print(f"{c.kind:8} {c.reading:8} {c.row.source:22} {role:8} {c.row.text[:160]}")
    counts = {k: sum(c.kind == k for c in found) for k in order}
    print(f"checked {checked} messages ({new_rows} not in the snapshot, not compared): "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 1 if counts["LOST"] or counts["NEWFA"] else 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bot.safety.lexdiff", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("save", "compare"))
    ap.add_argument("snapshot", type=Path)
    ap.add_argument("--rules", nargs="+", default=[],
                    help="compare: only the messages these rules (category.id) can match")
    ap.add_argument("--match", metavar="REGEX",
                    help="compare: only the messages a reading of which this matches "
                         "(for an edit outside the rules: a frame, a slot, a mask)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--corpus", nargs="+", type=Path,
                    help="these files instead of every labelled set we hold")
    args = ap.parse_args(argv)
    rows = corpus(args.corpus)
    if args.command == "save":
        made_with = lexicon_text()
        save(args.snapshot, rows, decide(rows, args.jobs), made_with)
        print(f"saved decisions on {len(rows)} messages to {args.snapshot}")
        return 0
    base_lexicon, before = load(args.snapshot)
    if args.rules:
        rows = matching(rows, rule_patterns(args.rules, [lexicon(), _lexicon_of(base_lexicon)]))
    if args.match:
        rows = matching(rows, [re.compile(args.match)])
    new_rows = sum((r.text, r.role) not in before for r in rows)
    return _report(changes(before, rows, decide(rows, args.jobs)), len(rows), new_rows)


if __name__ == "__main__":
    sys.exit(main())
