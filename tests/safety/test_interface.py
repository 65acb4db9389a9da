"""The detector's public contract (docs/design.md) and category metadata."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.safety import CATEGORIES, SEVERITIES, Detection, Signal, detect
from bot.safety import categories as cats


def test_constants():
    assert CATEGORIES == ("suicide", "self_harm", "abuse", "sexual_abuse",
                          "neglect", "bullying", "danger", "runaway")
    assert SEVERITIES == ("imminent", "high", "medium")


def test_detection_shape():
    d = detect("我不想活了", role="child")
    assert isinstance(d, Detection)
    assert d.escalate and d.category == "suicide" and d.severity in SEVERITIES
    assert d.evidence and all(isinstance(e, str) for e in d.evidence)
    assert d.signals and all(isinstance(s, Signal) for s in d.signals)
    assert all(s.source in ("lexicon", "pattern", "semantic", "classifier", "context")
               for s in d.signals)
    assert all(0.0 <= s.score <= 1.0 for s in d.signals)
    assert 0.0 <= d.score <= 1.0
    assert set(d.to_cli_dict()) == {"escalate", "category", "severity", "evidence"}
    assert set(d.to_dict()) == {"escalate", "category", "severity", "evidence", "signals"}
    json.dumps(d.to_dict(), ensure_ascii=False)


def test_frozen():
    d = detect("你好")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.escalate = True  # type: ignore[misc]
    s = Signal("suicide", "high", 0.9, "x", "lexicon")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.score = 0.1  # type: ignore[misc]


def test_round_trip():
    d = detect("那个叔叔老让我去他家看手机还摸我", role="child")
    back = Detection.from_dict(json.loads(json.dumps(d.to_dict())))
    assert back.to_dict() == d.to_dict()
    assert back.signals == tuple(Signal.from_dict(s.to_dict()) for s in d.signals)
    cli = Detection.from_dict(d.to_cli_dict())
    assert cli.escalate and cli.category == "sexual_abuse" and cli.signals == ()


@pytest.mark.parametrize("junk", [None, {}, {"category": "nope", "severity": 3}, [], "x"])
def test_from_dict_tolerates_junk(junk):
    d = Detection.from_dict(junk)
    assert d.category in (None, *CATEGORIES)


def test_negative_shape():
    d = detect("今天天气真好", role="child")
    assert d.to_cli_dict() == {"escalate": False, "category": None, "severity": None,
                               "evidence": []}


def test_category_metadata():
    assert set(cats.CATEGORY_INFO) == set(CATEGORIES)
    for c in ("sexual_abuse", "abuse", "self_harm", "suicide", "neglect"):
        assert cats.mandatory_report(c)
    for c in ("bullying", "danger", "runaway", None, "unknown"):
        assert not cats.mandatory_report(c)
    assert cats.renotify_seconds(None) == cats.renotify_seconds("high")
    assert cats.renotify_seconds("imminent") == 300
    assert cats.renotify_seconds("high") == 1800
    assert cats.renotify_seconds("medium") == 86400
    assert cats.info("abuse").primary == "110"
    assert cats.info("sexual_abuse").primary == "110"
    assert cats.info("suicide").primary == "12356"
    for info in cats.CATEGORY_INFO.values():
        assert info.primary in cats.HOTLINES and info.secondary in cats.HOTLINES


@pytest.mark.parametrize("text,number", [
    ("家里着火了", "119"),
    ("奶奶躺地上叫不醒", "120"),
    ("我已经吃了一瓶药", "120"),
    ("有个陌生人给我糖 让我跟他走", "110"),
    ("我不想活了", "12356"),
])
def test_hotline_for_detection(text, number):
    assert cats.hotlines(detect(text))[0] == number


def test_console_and_alert_worker_do_not_load_the_detector():
    """They use the safety package's tables only; the encoder and classifier (hundreds of
    MB, seconds to load) stay in the Rasa server and the CLI."""
    probe = ("import sys, bot.console.app, bot.alerts.worker; "
             "print(sorted(m for m in ('bot.safety.detector', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[2])
    assert out.stdout.strip() == "[]"
