"""The caregiving content: every topic, both languages, short, safe, and in the domain."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.guardian import caregiving, services
from bot.guardian.caregiving import TOPICS

ROOT = Path(__file__).resolve().parents[2]
DOSES = re.compile(
    r"\d+(\.\d+)?\s*(mg|毫克|克|片|粒|ml|毫升|tablets?|pills?|capsules?|drops?|滴)", re.I
)
MEDICINE_NAMES = re.compile(
    r"布洛芬|对乙酰氨基酚|扑热息痛|阿莫西林|头孢|退烧药|ibuprofen|paracetamol|acetaminophen"
    r"|amoxicillin|aspirin|阿司匹林",
    re.I,
)
ZH_LIMIT = 60  # characters per bubble: one breath when read aloud
EN_LIMIT = 160
CONTRACT_TOPICS = (
    "screen_time homework emotions missing_parents eating sleep water_safety stranger_safety "
    "discipline illness warning_signs bullying puberty guardian_self_care school_contact services"
).split()


def all_texts(topic: str, lang: str) -> list[str]:
    return [
        text
        for part in caregiving.all_parts(topic)
        for text in caregiving.part_texts(topic, part, lang)
    ]


def domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def test_topics_are_the_contract() -> None:
    assert list(TOPICS) == CONTRACT_TOPICS
    files = {p.stem for p in (ROOT / "data/content/caregiving").glob("*.yml")}
    assert set(TOPICS) <= files


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_topic_has_first_deeper_and_follow_ups(topic: str, lang: str) -> None:
    content = caregiving.topic_file(topic)
    assert content["topic"] == topic
    assert 2 <= len(content["first"][lang]) <= 5
    assert 2 <= len(content["more"][lang]) <= 5
    assert len(content["follow_up"]) >= 2
    for part in ("first", "more"):
        assert len(content[part]["zh"]) == len(content[part]["en"]), part
    for block in content["follow_up"]:
        assert block[lang] and len(block["zh"]) == len(block["en"])
    assert content["summary"][lang] and content["title"][lang]
    assert content.get("offer", "more") in ("more", "tell_worker")


@pytest.mark.parametrize("topic", TOPICS)
def test_bubbles_are_short_enough_to_read_aloud(topic: str) -> None:
    for text in all_texts(topic, "zh"):
        assert len(text) <= ZH_LIMIT, text
        assert re.search(r"[\u4e00-\u9fff]", text), text
    for text in all_texts(topic, "en"):
        assert len(text) <= EN_LIMIT, text
        assert not re.search(r"[\u4e00-\u9fff]{3,}", text.replace("儿童主任", "")
                             .replace("儿童之家", "")), text
    for text in all_texts(topic, "zh") + all_texts(topic, "en"):
        assert "{" not in text and "*" not in text and "#" not in text, text  # no markup


@pytest.mark.parametrize("topic", TOPICS)
def test_no_doses_and_no_named_medicines(topic: str) -> None:
    for lang in ("zh", "en"):
        for text in all_texts(topic, lang) + [caregiving.summary(topic, lang)]:
            assert not DOSES.search(text), text
            assert not MEDICINE_NAMES.search(text), text


def test_the_dose_pattern_would_catch_a_dose() -> None:
    assert DOSES.search("吃2片") and DOSES.search("give 5 ml") and DOSES.search("250mg")
    assert not DOSES.search("打120") and not DOSES.search("9到12个小时")


@pytest.mark.parametrize("topic", ["illness", "warning_signs", "eating", "puberty"])
def test_medical_topics_send_to_a_doctor_or_120(topic: str) -> None:
    zh, en = " ".join(all_texts(topic, "zh")), " ".join(all_texts(topic, "en")).lower()
    assert "医生" in zh or "120" in zh or "医院" in zh
    assert "doctor" in en or "120" in en or "hospital" in en


def test_illness_lists_red_flags_and_120_first() -> None:
    first = " ".join(caregiving.part_texts("illness", "first", "zh"))
    for sign in ("120", "叫不醒", "抽筋", "喘气", "嘴唇发紫", "农药"):
        assert sign in first, sign
    assert "大人的药" in " ".join(all_texts("illness", "zh"))


def test_discipline_is_non_violent() -> None:
    zh = " ".join(all_texts("discipline", "zh"))
    en = " ".join(all_texts("discipline", "en")).lower()
    assert "不用打骂" in zh and "冷静" in zh and "夸" in zh
    assert "hit" in en and "calm" in en and "praise" in en
    for bad in ("打一顿", "揍", "罚跪", "饿一顿", "spank", "smack him", "beat him"):
        assert bad not in zh and bad not in en
    assert "别骂" in zh  # no shaming
    assert "shame" in en


def test_water_safety_covers_what_saves_lives() -> None:
    zh = " ".join(all_texts("water_safety", "zh"))
    en = " ".join(all_texts("water_safety", "en")).lower()
    first = " ".join(caregiving.part_texts("water_safety", "first", "zh"))
    # never alone / without an adult, where, covers and fences, when
    for phrase in ("一个人", "没有大人", "池塘", "水库", "水井", "水缸", "盖", "护栏", "夏天"):
        assert phrase in first, phrase
    # safe rescue: shout and throw, don't jump in, call 110/120, no "控水", CPR
    for phrase in ("别跳下去", "大声喊", "扔", "110", "120", "控水", "心肺复苏", "暑假"):
        assert phrase in zh, phrase
    for phrase in ("alone", "adult", "well", "cover", "fence", "don't jump in", "throw",
                   "110", "120", "cpr", "summer"):
        assert phrase in en, phrase


def test_warning_signs_ask_directly_remove_means_and_escalate() -> None:
    zh = " ".join(all_texts("warning_signs", "zh"))
    for phrase in ("伤害自己", "农药", "锁", "12356", "120", "社工", "别让他一个人"):
        assert phrase in zh, phrase


def test_missing_parents_never_promises_a_return() -> None:
    for text in all_texts("missing_parents", "zh"):
        if "很快" in text and "回来" in text:
            assert "别" in text, text  # only as advice not to promise it


def test_guardian_self_care_offers_the_social_worker() -> None:
    assert caregiving.offer_kind("guardian_self_care") == caregiving.OFFER_TELL_WORKER
    answer = caregiving.first_answer("guardian_self_care", "zh")
    assert "社工" in answer.messages[-1].text
    assert [b["payload"] for b in answer.messages[-1].buttons] == ["/affirm", "/deny"]


def test_services_directory_has_every_service_and_number() -> None:
    directory = services.directory()
    for key in ("social_worker", "child_director", "childrens_home", "teacher",
                "line_12355", "line_12356", "emergency"):
        assert key in directory, key
        for lang in ("zh", "en"):
            text = services.describe(key, lang)
            assert len(text) <= (ZH_LIMIT if lang == "zh" else EN_LIMIT), text
            for number in directory[key]["numbers"]:
                assert number in text
    zh = " ".join(all_texts("services", "zh"))
    for needle in ("社工", "儿童主任", "儿童之家", "班主任", "12355", "12356", "110", "120", "119"):
        assert needle in zh, needle


def test_services_placeholders_all_resolve() -> None:
    for topic in TOPICS:
        for lang in ("zh", "en"):
            for text in all_texts(topic, lang):
                assert "{service:" not in text


# --- the domain ---------------------------------------------------------------------------


@pytest.mark.parametrize("topic", TOPICS)
def test_domain_has_the_retrieval_response_matching_the_summary(topic: str) -> None:
    variants = domain()["responses"][f"utter_ask_caregiving/{topic}"]
    zh = [v for v in variants if not v.get("condition")]
    en = [v for v in variants if v.get("condition") == [
        {"type": "slot", "name": "language", "value": "en"}]]
    assert [v["text"] for v in zh] == [caregiving.summary(topic, "zh")]
    assert [v["text"] for v in en] == [caregiving.summary(topic, "en")]


GUARDIAN_RESPONSES = [
    "utter_caregiving_ok", "utter_concern_intro", "utter_ask_concern_what",
    "utter_ask_concern_since", "utter_ask_concern_urgency", "utter_ask_concern_callback",
    "utter_concern_which_child", "utter_concern_stopped", "utter_concern_filed",
    "utter_concern_filed_unassigned", "utter_concern_will_call", "utter_concern_no_call",
    "utter_concern_urgent", "utter_concern_not_saved", "utter_social_worker_contact",
    "utter_social_worker_no_contact", "utter_social_worker_none", "utter_code_ask",
    "utter_code_linked_child", "utter_code_linked_worker", "utter_code_invalid",
    "utter_code_locked",
]


@pytest.mark.parametrize("name", GUARDIAN_RESPONSES)
def test_guardian_responses_are_bilingual_and_short(name: str) -> None:
    variants = domain()["responses"][name]
    zh = [v for v in variants if not v.get("condition")]
    en = [v for v in variants if v.get("condition") == [
        {"type": "slot", "name": "language", "value": "en"}]]
    assert zh and en
    for v in zh:
        assert re.search(r"[\u4e00-\u9fff]", v["text"]) and len(v["text"]) <= ZH_LIMIT
    for v in en:
        assert not re.search(r"[\u4e00-\u9fff]", v["text"]) and len(v["text"]) <= EN_LIMIT
    # the same placeholders in both languages
    assert {tuple(sorted(re.findall(r"\{(\w+)\}", v["text"]))) for v in variants} == {
        tuple(sorted(re.findall(r"\{(\w+)\}", zh[0]["text"])))}


def test_button_payloads_use_known_intents() -> None:
    intents = set(domain()["intents"])
    payloads = []
    prompts = caregiving.prompts()
    for key in ("offer_more", "offer_tell_worker", "topic_done"):
        payloads += [b["payload"] for b in prompts[key]["buttons"]]
    for topic in TOPICS:
        payloads += [b["payload"] for b in caregiving.topic_file(topic).get("more_buttons") or []]
    payloads += [b["payload"] for b in caregiving.which_topic("zh").buttons]
    for payload in payloads:
        name = re.match(r"^/([a-z_]+)", payload).group(1)
        assert name in intents, payload
