"""Conversation context: hints over the last turns add up; flags persist."""

from bot.safety import detect
from bot.safety.context import WINDOW, assess_conversation


def turns(*texts):
    return [detect(t, "child") for t in texts]


def test_empty():
    assert not assess_conversation([]).escalate


def test_single_subthreshold_message_does_not_escalate():
    d = turns("没人在乎我")
    assert not d[0].escalate
    assert not assess_conversation(d).escalate


def test_hints_accumulate_to_suicide():
    # (我是个累赘, perceived burdensomeness, escalates on its own since round 9, and so
    # does 反正没人在乎我 since session 27's retrain: in our data it always came with more)
    ds = turns("没人在乎我", "都是我的错", "我好没用")
    assert not any(d.escalate for d in ds)
    c = assess_conversation(ds)
    assert c.escalate and c.category == "suicide"
    assert any(e.startswith("context:") for e in c.evidence)


def test_pills_after_hopelessness():
    c = assess_conversation(turns("没人在乎我", "我是多余的", "我攒了好多药"))
    assert c.escalate and c.category == "suicide"


def test_everyday_chat_stays_quiet():
    c = assess_conversation(turns("我好难过", "今天作业好多", "累死了", "我想我妈了"))
    assert not c.escalate


def test_escalated_turn_stays_flagged_within_window():
    ds = turns("我爸用皮带抽我", "嗯", "好的", "没事了")
    c = assess_conversation(ds)
    assert c.escalate and c.category == "abuse"


def test_strongest_category_wins():
    c = assess_conversation(turns("同学天天打我", "我刚喝了农药"))
    assert c.category == "suicide" and c.severity == "imminent"


def test_window_limits_old_hints():
    old = turns("没人在乎我", "都是我的错")
    chatter = turns(*["今天吃了面条"] * WINDOW)
    later = turns("没人在乎我")
    assert assess_conversation(old + later).escalate  # three hints in the window add up
    assert not assess_conversation(old + chatter + later).escalate


def test_accepts_stored_dicts():
    stored = [detect(t).to_dict() for t in ("没人在乎我", "都是我的错", "我好没用")]
    assert assess_conversation(stored).escalate
    cli_only = [detect("他摸我下面").to_cli_dict(), detect("嗯").to_cli_dict()]
    c = assess_conversation(cli_only)
    assert c.escalate and c.category == "sexual_abuse"


def test_pure():
    # (我是个累赘, perceived burdensomeness, escalates on its own since round 9)
    ds = turns("没人在乎我", "都是我的错", "我好没用")
    assert assess_conversation(ds) == assess_conversation(tuple(ds))


def test_a_turns_own_severity_stands_in_the_conversation():
    # the imminent cue is read off the whole message, not carried by any one signal
    ds = turns("我好难受", "我现在在村头那个桥上 水好深 跟你说声再见吧")
    assert ds[-1].severity == "imminent"
    c = assess_conversation(ds)
    assert c.escalate and c.category == ds[-1].category and c.severity == "imminent"
