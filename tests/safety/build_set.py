"""Build a JSONL evaluation set from the compact source format.

Line: `CAT SEV ROLE LANG | text | note`, CAT in su sh ab sx ne bu da ru or -
(negative), SEV i h m or -, ROLE c g, LANG z e. Used once to write
devset.jsonl / blind.jsonl; kept so the sets can be extended the same way.
"""

from __future__ import annotations

import json
import sys

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


def main(src: str, dst: str) -> None:
    rows = [r for r in map(parse, open(src, encoding="utf-8")) if r]
    with open(dst, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows, {sum(r['escalate'] for r in rows)} positive -> {dst}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
