"""lexdiff: the check every lexicon round runs, on a real detector and a real edited lexicon."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from bot.safety import lexdiff
from bot.safety._data import DATA_DIR

ROOT = Path(__file__).resolve().parents[2]
ROWS = [
    {"text": "我想自杀", "role": "child", "escalate": True},
    {"text": "今天作业好多 累死了", "role": "child", "escalate": False},
    {"text": "我想自杀", "role": "child", "escalate": True},  # a duplicate is read once
]


def _write_corpus(tmp_path: Path) -> Path:
    path = tmp_path / "mini.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), "utf-8")
    probes = tmp_path / "probes.txt"
    probes.write_text("# header\n1|我不想活了\n0|笑死我了\n", "utf-8")
    return path


def test_corpus_reads_every_format_and_deduplicates(tmp_path):
    rows = lexdiff.corpus([_write_corpus(tmp_path), tmp_path / "probes.txt",
                           DATA_DIR / "bank.txt"])
    texts = [(r.text, r.role) for r in rows]
    assert len(texts) == len(set(texts))
    assert lexdiff.Row("我想自杀", "child", True, "mini.jsonl") in rows
    assert lexdiff.Row("笑死我了", None, False, "probes.txt") in rows
    assert any(r.source == "bank.txt" and r.label for r in rows)
    assert any(r.source == "bank.txt" and not r.label for r in rows)


def test_the_default_corpus_holds_every_set():
    names = {p.name for p in lexdiff.default_files()}
    assert {"devset.jsonl", "everyday.jsonl", "probes.txt", "pending_negatives.txt",
            "bank.txt", "blind_v7.jsonl"} <= names


def test_changes_name_losses_and_new_false_alarms():
    risk = lexdiff.Row("a", "child", True, "x")
    calm = lexdiff.Row("b", "child", False, "x")
    before = {("a", "child"): (risk, True, True), ("b", "child"): (calm, False, False)}
    found = lexdiff.changes(before, [risk, calm], [(True, False), (True, False)])
    assert [(c.kind, c.reading, c.row.text) for c in found] == [
        ("LOST", "lexicon", "a"), ("NEWFA", "full", "b")]


def _edited_data_dir(tmp_path: Path, drop_rule: str) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    lexicon = yaml.safe_load((data / "lexicon.yaml").read_text("utf-8"))
    cat, rule_id = drop_rule.split(".")
    lexicon["rules"] = [r for r in lexicon["rules"] if (r["cat"], r["id"]) != (cat, rule_id)]
    (data / "lexicon.yaml").write_text(yaml.safe_dump(lexicon, allow_unicode=True), "utf-8")
    return data


def _run(args: list[str], data: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if data is not None:
        env["PEIBAN_SAFETY_DATA"] = str(data)
    return subprocess.run([sys.executable, "-m", "bot.safety.lexdiff", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)


def test_a_dropped_rule_shows_as_lost_and_the_check_fails(tmp_path):
    corpus = _write_corpus(tmp_path)
    snapshot = tmp_path / "base.json.gz"
    saved = _run(["save", str(snapshot), "--corpus", str(corpus), "--jobs", "1"])
    assert saved.returncode == 0, saved.stderr
    same = _run(["compare", str(snapshot), "--corpus", str(corpus), "--jobs", "1"])
    assert same.returncode == 0 and "LOST 0, NEWFA 0" in same.stdout, same.stdout
    edited = _edited_data_dir(tmp_path, "suicide.ideation")
    only = _run(["compare", str(snapshot), "--corpus", str(corpus), "--jobs", "1",
                 "--rules", "suicide.ideation"], edited)
    assert only.returncode == 1, only.stdout + only.stderr
    lost = [line for line in only.stdout.splitlines() if line.startswith("LOST")]
    assert lost and all("我想自杀" in line for line in lost)
    # --rules read only the message the dropped rule (in the snapshot's lexicon) matches
    assert "checked 1 messages" in only.stdout
    matched = _run(["compare", str(snapshot), "--corpus", str(corpus), "--jobs", "1",
                    "--match", "累死"], edited)
    assert matched.returncode == 0 and "checked 1 messages" in matched.stdout, matched.stdout


def test_unknown_rule_ids_are_refused(tmp_path):
    corpus = _write_corpus(tmp_path)
    snapshot = tmp_path / "base.json.gz"
    lexdiff.save(snapshot, lexdiff.corpus([corpus]), [(True, True), (False, False)],
                 lexdiff.lexicon_text())
    out = _run(["compare", str(snapshot), "--corpus", str(corpus), "--rules", "suicide.nope"])
    assert out.returncode != 0 and "unknown rule ids: suicide.nope" in out.stderr
