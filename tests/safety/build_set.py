"""Build a JSONL evaluation set from the compact source format.

Line: `CAT SEV ROLE LANG | text | note`, CAT in su sh ab sx ne bu da ru or -
(negative), SEV i h m or -, ROLE c g, LANG z e.

    build_set.py SRC OUT                          # a set, as is
    build_set.py SRC OUT --exclude-near SET ...   # a dev batch: drop lines near any SET
    build_set.py SRC OUT --prune-dev DEV ...      # a new blind set: drop DEV rows near it
                                                  # (the dev set and folded_blinds.jsonl)
    build_set.py SRC OUT --prune-bank             # ... and semantic-bank exemplars near it

"Near" is tests/similarity.py at Jaccard >= NEAR (0.5). Only counts are printed, never the
texts, so a blind set can be kept apart from the dev set without anyone reading it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bot.safety._data import DATA_DIR  # noqa: E402
from bot.safety.eval import load  # noqa: E402
from bot.safety.normalize import canonical  # noqa: E402
from bot.safety.semantic import BANK_FILE  # noqa: E402
from tests.similarity import GramIndex  # noqa: E402

NEAR = 0.5

CATS = {"su": "suicide", "sh": "self_harm", "ab": "abuse", "sx": "sexual_abuse",
        "ne": "neglect", "bu": "bullying", "da": "danger", "ru": "runaway"}
SEVS = {"i": "imminent", "h": "high", "m": "medium"}
ROLES = {"c": "child", "g": "guardian"}
LANGS = {"z": "zh", "e": "en"}


def parse(line: str) -> dict | None:
    line = line.rstrip("\n")
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    head, text, note = (p.strip() for p in line.split(" | ", 2))
    cat, sev, role, lang = head.split()
    pos = cat != "-"
    return {"text": text, "role": ROLES[role], "lang": LANGS[lang], "escalate": pos,
            "category": CATS[cat] if pos else None, "severity": SEVS[sev] if pos else None,
            "note": note}


def write_jsonl(path: str | Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def drop_near(rows: list[dict], others: list[dict]) -> list[dict]:
    """The rows whose text is not near any of the others' texts."""
    index = GramIndex([o["text"] for o in others])
    return [r for r in rows if not index.near(r["text"], NEAR)]


def prune_bank(rows: list[dict], bank: Path = DATA_DIR / BANK_FILE) -> int:
    """Drop the bank's exemplar lines near any of the rows (headers and comments stay);
    the bank's embedding cache is rebuilt on the next load. Returns how many went."""
    # compared as the detector reads them: "i wanna die" in the bank is "i want to die"
    index = GramIndex([canonical(r["text"]) for r in rows])
    lines = bank.read_text(encoding="utf-8").splitlines(keepends=True)

    def exemplar_near(line: str) -> bool:
        text = line.strip()
        return bool(text) and text[0] not in "#[" and bool(index.near(canonical(text), NEAR))

    kept = [line for line in lines if not exemplar_near(line)]
    bank.write_text("".join(kept), encoding="utf-8")
    return len(lines) - len(kept)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--exclude-near", nargs="+", default=[], metavar="SET")
    ap.add_argument("--prune-dev", nargs="+", default=[], metavar="DEV")
    ap.add_argument("--prune-bank", action="store_true")
    args = ap.parse_args(argv)
    rows = [r for r in map(parse, open(args.src, encoding="utf-8")) if r]
    if args.exclude_near:
        kept = drop_near(rows, load(args.exclude_near))
        print(f"dropped {len(rows) - len(kept)} lines near {len(args.exclude_near)} set(s)")
        rows = kept
    write_jsonl(args.out, rows)
    print(f"{len(rows)} rows, {sum(r['escalate'] for r in rows)} positive -> {args.out}")
    for path in args.prune_dev:
        dev = load([path])
        kept = drop_near(dev, rows)
        write_jsonl(path, kept)
        print(f"dropped {len(dev) - len(kept)} rows of {path} near the new set")
    if args.prune_bank:
        print(f"dropped {prune_bank(rows)} bank exemplars near the new set; re-embed with "
              "python -c 'from bot.safety import warmup; warmup()'")


if __name__ == "__main__":
    main()
