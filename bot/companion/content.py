"""Loading and checking the companion's content files (both languages everywhere).

Exercise scripts: `data/content/exercises/<id>.yml`. Shared texts: `data/content/companion.yml`.
Topic replies: `data/content/topics.yml`. `check_exercise` lists every problem in one
script so the content tests can show them all at once.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from bot.config import ROOT

CONTENT_DIR = ROOT / "data" / "content"
EXERCISE_DIR = CONTENT_DIR / "exercises"
LANGS = ("zh", "en")
STEP_TYPES = ("say", "choice", "text", "count")
WAITING_TYPES = ("choice", "text", "count")
END = "_end"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _load_yaml(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@lru_cache(maxsize=None)
def common() -> dict[str, Any]:
    return _load_yaml(CONTENT_DIR / "companion.yml")


@lru_cache(maxsize=None)
def topics() -> dict[str, Any]:
    return _load_yaml(CONTENT_DIR / "topics.yml")


@lru_cache(maxsize=None)
def exercises() -> dict[str, dict[str, Any]]:
    """Every exercise script by id, in menu order."""
    loaded = [_load_yaml(p) for p in sorted(EXERCISE_DIR.glob("*.yml"))]
    loaded.sort(key=lambda e: (e.get("order", 99), e.get("id", "")))
    return {e["id"]: e for e in loaded}


def exercise(exercise_id: str) -> Optional[dict[str, Any]]:
    return exercises().get(exercise_id)


def menu_exercises() -> list[dict[str, Any]]:
    return [e for e in exercises().values() if e.get("menu", True)]


def text_in(variants: Any, lang: str, index: Optional[int] = None,
            rng: Optional[random.Random] = None) -> str:
    """One text in `lang` from `{zh: str|[str], en: str|[str]}`.

    With `index` the choice is deterministic (rotating), else random.
    """
    if isinstance(variants, str):
        return variants
    if not isinstance(variants, dict):
        return ""
    texts = variants.get(lang) or variants.get("zh") or ""
    if isinstance(texts, str):
        return texts
    if not texts:
        return ""
    if index is not None:
        return texts[index % len(texts)]
    return (rng or random).choice(texts)


def title_of(ex: dict[str, Any], lang: str) -> str:
    return text_in(ex["title"], lang)


def all_button_titles() -> list[str]:
    """Every button title in our content, both languages: a tap sends the title as the
    user's message, so the risk detector trains on them as everyday messages."""
    out: set[str] = set()
    for path in sorted(CONTENT_DIR.rglob("*.yml")):
        out.update(_titles(yaml.safe_load(path.read_text(encoding="utf-8"))))
    return sorted(out)


def _titles(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "title" and isinstance(value, dict):
                yield from (t for t in value.values() if isinstance(t, str))
            else:
                yield from _titles(value)
    elif isinstance(node, list):
        for item in node:
            yield from _titles(item)


def button_title(ex: dict[str, Any], lang: str) -> str:
    return f"{ex.get('emoji', '')} {title_of(ex, lang)}".strip()


def exercise_payload(exercise_id: str) -> str:
    return '/request_exercise{"exercise":"%s"}' % exercise_id


# --- checking scripts -------------------------------------------------------------------


def bilingual_problems(node: Any, where: str) -> list[str]:
    """Every `{zh, en}` text pair below `node` must have both languages, non-empty."""
    problems: list[str] = []
    if isinstance(node, dict):
        if set(node) & set(LANGS):
            for lang in LANGS:
                value = node.get(lang)
                if not value or (isinstance(value, list) and not all(value)):
                    problems.append(f"{where}: missing or empty '{lang}'")
        for key, value in node.items():
            if key not in LANGS and key != "words":  # match words may be one language only
                problems += bilingual_problems(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            problems += bilingual_problems(value, f"{where}[{i}]")
    return problems


def steps_by_id(ex: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in ex.get("steps", [])}


def next_of(ex: dict[str, Any], step: dict[str, Any]) -> str:
    """The step after `step`: its `next`, else the following one in the file, else the end."""
    if step.get("next"):
        return step["next"]
    ids = [s["id"] for s in ex["steps"]]
    index = ids.index(step["id"])
    return ids[index + 1] if index + 1 < len(ids) else END


def successors(ex: dict[str, Any], step: dict[str, Any]) -> list[str]:
    if step.get("type") == "choice":
        targets = [o.get("next") or next_of(ex, step) for o in step.get("options", [])]
        if step.get("free"):
            targets.append(next_of(ex, step))
        return targets
    return [next_of(ex, step)]


def reachable(ex: dict[str, Any]) -> set[str]:
    steps = ex.get("steps") or []
    if not steps:
        return set()
    seen: set[str] = set()
    todo = [steps[0]["id"]]
    index = steps_by_id(ex)
    while todo:
        current = todo.pop()
        if current in seen or current == END or current not in index:
            continue
        seen.add(current)
        todo += successors(ex, index[current])
    return seen


def answer_keys(ex: dict[str, Any]) -> set[str]:
    return {s["key"] for s in ex.get("steps", []) if s.get("key")} | set(ex.get("inputs", []))


def _texts(node: Any) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


def check_exercise(ex: dict[str, Any], known_ids: Iterable[str] = ()) -> list[str]:
    """Everything wrong with one exercise script (empty when it is fine)."""
    name = ex.get("id", "?")
    problems = [f"{name}: missing '{k}'" for k in ("id", "title", "intro", "closing", "steps",
                                                     "keywords", "help") if k not in ex]
    problems += bilingual_problems(ex, name)
    steps = ex.get("steps") or []
    ids = [s.get("id") for s in steps]
    if len(ids) != len(set(ids)):
        problems.append(f"{name}: duplicate step ids")
    index = steps_by_id(ex)
    known = set(known_ids) | {name}
    for step in steps:
        problems += _check_step(ex, step, index, known)
    unreachable = set(index) - reachable(ex)
    if unreachable:
        problems.append(f"{name}: unreachable steps {sorted(unreachable)}")
    keys = answer_keys(ex) | {"n", "total"}
    for text in _texts({k: v for k, v in ex.items() if k != "keywords"}):
        for placeholder in PLACEHOLDER.findall(text):
            if placeholder not in keys:
                problems.append(f"{name}: unknown placeholder {{{placeholder}}} in {text!r}")
    return problems


def _check_step(ex: dict[str, Any], step: dict[str, Any], index: dict[str, Any],
                known: set[str]) -> list[str]:
    where = f"{ex.get('id')}.{step.get('id')}"
    kind = step.get("type")
    problems: list[str] = []
    if kind not in STEP_TYPES:
        return [f"{where}: unknown type {kind!r}"]
    if "text" not in step:
        problems.append(f"{where}: no text")
    if kind in WAITING_TYPES and "simple" not in step:
        problems.append(f"{where}: waiting step without a 'simple' re-explanation")
    if kind == "text" and "hint" not in step:
        problems.append(f"{where}: text step without a 'hint'")
    if kind == "count" and ("times" not in step or "button" not in step):
        problems.append(f"{where}: count step needs 'times' and 'button'")
    if kind == "choice" and not step.get("options"):
        problems.append(f"{where}: choice without options")
    targets = [step.get("next")] + [o.get("next") for o in step.get("options", [])]
    for target in targets:
        if target and target != END and target not in index:
            problems.append(f"{where}: next {target!r} does not exist")
    for option in step.get("options", []):
        if option.get("start") and option["start"] not in known:
            problems.append(f"{where}: starts unknown exercise {option['start']!r}")
        if "title" not in option or "id" not in option:
            problems.append(f"{where}: option without id/title")
    return problems


def match_exercise(text: str) -> Optional[str]:
    """The menu exercise a child's words name ("教我吹气球呼吸" -> breathing), else None.

    Each keyword found scores its length; the best score wins, and a tie means we are not
    sure, so the menu is shown instead of guessing.
    """
    from bot.companion.text import normalize, parse_payload

    if not text or parse_payload(text):
        return None
    norm = normalize(text)
    scores: dict[str, int] = {}
    for ex in menu_exercises():
        for lang in LANGS:
            for keyword in (ex.get("keywords") or {}).get(lang) or []:
                word = normalize(str(keyword))
                if word and _keyword_in(word, norm):
                    scores[ex["id"]] = scores.get(ex["id"], 0) + len(word)
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def _keyword_in(word: str, norm: str) -> bool:
    if word.isascii() and re.fullmatch(r"[a-z' ]+", word):
        return re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", norm) is not None
    return word in norm
