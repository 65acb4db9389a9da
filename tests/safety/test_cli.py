"""`python -m bot.safety` JSON-lines contract, via a real subprocess."""

import json
import os
import select
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"escalate", "category", "severity", "evidence"}


def _proc() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot.safety"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def test_stream_in_order_with_malformed_lines():
    lines = [
        json.dumps({"text": "我不想活了", "role": "child"}, ensure_ascii=False),
        "this is not json",
        json.dumps({"text": "今天天气真好", "role": "child"}, ensure_ascii=False),
        json.dumps({"role": "child"}),
        json.dumps([1, 2, 3]),
        json.dumps({"text": "孙女说那个老头摸她", "role": "guardian"}, ensure_ascii=False),
        json.dumps({"text": "奶奶躺地上叫不醒"}, ensure_ascii=False),
        '{"text": "\\u0000\\ud800 binary"}',
        json.dumps({"text": "kms", "role": "stranger"}),
    ]
    p = _proc()
    out, err = p.communicate(("\n".join(lines) + "\n").encode("utf-8"), timeout=120)
    assert p.returncode == 0, err.decode()
    rows = [json.loads(x) for x in out.decode("utf-8").splitlines()]
    assert len(rows) == len(lines)
    assert rows[0]["escalate"] and rows[0]["category"] == "suicide"
    assert set(rows[1]) == KEYS | {"error"} and rows[1]["escalate"] is False
    assert set(rows[2]) == KEYS and not rows[2]["escalate"]
    assert "error" in rows[3] and "error" in rows[4]
    assert rows[5]["category"] == "sexual_abuse"
    assert rows[6]["category"] == "danger" and rows[6]["severity"] == "imminent"
    assert set(rows[7]) == KEYS
    assert rows[8]["category"] == "suicide"
    for r in rows:
        assert r["evidence"] == [] or all(isinstance(e, str) for e in r["evidence"])


def test_utf8_not_escaped():
    p = _proc()
    out, _ = p.communicate(json.dumps({"text": "他摸我下面"}).encode() + b"\n", timeout=120)
    text = out.decode("utf-8")
    assert "\\u" not in text and "sexual_abuse" in text


def test_flushes_each_line():
    p = _proc()
    try:
        assert p.stdin and p.stdout
        for text in ("我不想活了", "你好"):
            p.stdin.write(json.dumps({"text": text}, ensure_ascii=False).encode() + b"\n")
            p.stdin.flush()
            ready, _, _ = select.select([p.stdout], [], [], 60)
            assert ready, "no answer before the next input: output not flushed"
            assert json.loads(p.stdout.readline())["escalate"] is (text == "我不想活了")
    finally:
        p.kill()
        p.wait()
