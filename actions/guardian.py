"""Guardian companion actions: caregiving answers, the concern report, links, who to call.

Thin: the logic is in `bot/guardian/`, texts in `data/content/caregiving/` and the domain.
Every action that touches the database takes a `Database` so tests can pass their own.
"""

from __future__ import annotations

import abc
import logging
import random
import re
import uuid
from typing import Any, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import Database, language_of
from actions.exercises import child_topic_from_ranking, topic_reply
from bot.guardian import caregiving, concerns, links, topics
from bot.guardian.caregiving import Answer, Message
from bot.guardian.content import text_in

logger = logging.getLogger(__name__)

TOPIC_SLOT = "caregiving_topic"
SEEN_SLOT = "caregiving_seen"
CONCERN_SLOTS = (
    "concern_child",
    "concern_what",
    "concern_since",
    "concern_urgency",
    "concern_callback",
    "concern_stopped",
)
NO_CHILD = "none"  # concern_child when the guardian means a child we don't know
# Button payloads like "/ask_caregiving/sleep" that did not reach us as an entity.
_TOPIC_PAYLOAD = re.compile(r"^/ask_caregiving/([a-z_]+)")
_OTHER_CHILD = re.compile(
    r"别的|其他|其它|都|不知道|other|another|none|not sure|both|all", re.I
)


# --- helpers ------------------------------------------------------------------------------


def _entity(tracker: Tracker, name: str) -> Optional[str]:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return None


def requested_topic(tracker: Tracker) -> Optional[str]:
    """The topic of this message: a button's entity or an old-style "/ask_caregiving/<topic>"
    payload (both exact), else the classifier's topic ranking with topic words breaking its
    doubts (bot/guardian/topics.py)."""
    message = tracker.latest_message or {}
    topic = caregiving.topic_from_key(_entity(tracker, "caregiving_topic"))
    if topic:
        return topic
    match = _TOPIC_PAYLOAD.match(message.get("text") or "")
    if match and caregiving.topic_from_key(match.group(1)):
        return match.group(1)
    selector = (message.get("response_selector") or {}).get(caregiving.RETRIEVAL_INTENT) or {}
    topic = topics.choose(topics.ranking_from_selector(selector), message.get("text") or "")
    if topic:
        return topic
    full = (message.get("intent") or {}).get("full_retrieval_intent_name")
    return caregiving.topic_from_key(full)


def _text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def _current_topic(tracker: Tracker) -> Optional[str]:
    return caregiving.topic_from_key(tracker.get_slot(TOPIC_SLOT))


def send(dispatcher: CollectingDispatcher, messages: tuple[Message, ...]) -> None:
    for message in messages:
        dispatcher.utter_message(text=message.text, buttons=list(message.buttons) or None)


def _seen(tracker: Tracker) -> list[str]:
    value = tracker.get_slot(SEEN_SLOT)
    return [str(v) for v in value] if isinstance(value, list) else []


def _latest_user_timestamp(tracker: Tracker) -> Optional[float]:
    for event in reversed(tracker.events or []):
        if event.get("event") == "user" and event.get("timestamp") is not None:
            return float(event["timestamp"])
    return None


def source_key(tracker: Tracker, kind: str) -> str:
    """Idempotency key: the user message that completed the report (a retry finds it)."""
    stamp = _latest_user_timestamp(tracker)
    suffix = f"{stamp:.6f}" if stamp is not None else uuid.uuid4().hex
    return f"{kind}:{tracker.sender_id}:{suffix}"[:160]


# --- caregiving answers -------------------------------------------------------------------


class ActionCaregivingAnswer(Action):
    """First answer on the topic the classifier picked; remembers the topic.

    "要是他不答应呢" right after an answer can come in as a caregiving question of its own:
    when it names no other topic it is answered as a follow-up on the current one.
    """

    def __init__(self, rng: Optional[random.Random] = None) -> None:
        self.rng = rng or random.Random()

    def name(self) -> str:
        return "action_caregiving_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = language_of(tracker)
        explicit = _entity(tracker, "caregiving_topic") or _TOPIC_PAYLOAD.match(_text(tracker))
        if tracker.get_slot("role") == "child" and not explicit:
            # taken for a grandparent's question ("弟弟老抢我手机" -> screen_time): advice
            # written for grandparents is the wrong answer to a child
            return topic_reply(dispatcher, tracker, child_topic_from_ranking(tracker), self.rng)
        if not explicit and topics.looks_like_follow_up(_text(tracker), _current_topic(tracker)):
            request = "more" if topics.has_more_cue(_text(tracker)) else "follow_up"
            return continue_topic(dispatcher, tracker, request)
        topic = requested_topic(tracker)
        if topic is None:
            send(dispatcher, (caregiving.which_topic(lang),))
            return []
        return first_answer(dispatcher, tracker, topic)


# What unclear messages, out_of_scope and ask_help get when they are not caregiving
# questions (rules send them to action_reply_or_caregiving, and right after an answer to
# action_caregiving_follow_up).
USUAL_REPLY = {"nlu_fallback": "utter_default", "out_of_scope": "utter_out_of_scope",
               "ask_help": "utter_help"}


def first_answer(dispatcher: CollectingDispatcher, tracker: Tracker,
                 topic: str) -> list[EventType]:
    """The first answer on a topic, remembered for "more" and follow-ups."""
    answer = caregiving.first_answer(topic, language_of(tracker))
    send(dispatcher, answer.messages)
    return [SlotSet(TOPIC_SLOT, topic), SlotSet(SEEN_SLOT, [answer.part])]


def guardian_reroute(dispatcher: CollectingDispatcher,
                     tracker: Tracker) -> Optional[list[EventType]]:
    """A guardian's caregiving question the classifier took for a child's intent (孩子老是哭
    -> feel_sad) or did not understand: answered on its topic (topics.guardian_topic).
    None when the sender is not a guardian or the topic is unclear."""
    if tracker.get_slot("role") != "guardian":
        return None
    message = tracker.latest_message or {}
    selector = (message.get("response_selector") or {}).get(caregiving.RETRIEVAL_INTENT) or {}
    topic = topics.guardian_topic((message.get("intent") or {}).get("name"),
                                  topics.ranking_from_selector(selector), _text(tracker))
    return first_answer(dispatcher, tracker, topic) if topic else None


class ActionReplyOrCaregiving(Action):
    """Unclear (nlu_fallback), out_of_scope and ask_help: a guardian whose message is a
    caregiving question gets the answer on its topic; everyone else the usual reply."""

    def name(self) -> str:
        return "action_reply_or_caregiving"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        rerouted = guardian_reroute(dispatcher, tracker)
        if rerouted is not None:
            return rerouted
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""
        dispatcher.utter_message(response=USUAL_REPLY.get(intent, "utter_default"))
        return []


class _ContinueTopic(Action, metaclass=abc.ABCMeta):
    """Something new on the current topic: deeper answer or follow-up, never a repeat."""

    # Abstract, so rasa-sdk's scan of Action subclasses does not try to register this base.
    @abc.abstractmethod
    def name(self) -> str: ...

    request: caregiving.Request = "more"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return continue_topic(dispatcher, tracker, self.request)


def continue_topic(
    dispatcher: CollectingDispatcher, tracker: Tracker, request: caregiving.Request
) -> list[EventType]:
    lang = language_of(tracker)
    topic = _current_topic(tracker)
    if topic is None:
        send(dispatcher, (caregiving.which_topic(lang),))
        return []
    seen = _seen(tracker)
    answer: Answer = caregiving.next_answer(topic, lang, seen, request)
    send(dispatcher, answer.messages)
    if answer.part == caregiving.DONE:
        return []
    return [SlotSet(SEEN_SLOT, seen + [answer.part])]


class ActionCaregivingMore(_ContinueTopic):
    request = "more"

    def name(self) -> str:
        return "action_caregiving_more"


class ActionCaregivingFollowUp(_ContinueTopic):
    """A follow-up on the current topic. Right after a caregiving answer the rules also send
    unclear messages (nlu_fallback) and "what should I do now?" (ask_help) here: they are
    follow-ups only when they read like one, otherwise they get their usual reply."""

    request = "follow_up"

    def name(self) -> str:
        return "action_caregiving_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        usual = USUAL_REPLY.get(intent or "")
        if usual and not topics.looks_like_follow_up(_text(tracker), _current_topic(tracker)):
            dispatcher.utter_message(response=usual)
            return []
        request = "more" if usual and topics.has_more_cue(_text(tracker)) else self.request
        return continue_topic(dispatcher, tracker, request)


class ActionCaregivingYes(Action):
    """"Yes" to the question after a first answer: more, or (own strain) tell the worker."""

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    def name(self) -> str:
        return "action_caregiving_yes"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        topic = _current_topic(tracker)
        if topic is None or caregiving.offer_kind(topic) != caregiving.OFFER_TELL_WORKER:
            return continue_topic(dispatcher, tracker, "more")
        lang = language_of(tracker)
        report = concerns.support_request(tracker.sender_id, lang, tracker.get_slot("role"))
        try:
            with self.db.session() as session:
                filed = concerns.file_concern(session, report, source_key(tracker, "support"))
        except Exception:  # noqa: BLE001 - the guardian must still get an answer
            logger.exception("support request for %s not saved", tracker.sender_id)
            dispatcher.utter_message(response="utter_concern_not_saved")
            return []
        key = "support_sent" if filed.worker else "support_no_worker"
        dispatcher.utter_message(text=text_in(caregiving.prompts()[key], lang))
        return []


# --- the concern report -------------------------------------------------------------------


class ActionConcernStart(Action):
    """Clear the last report's answers, then the form asks afresh."""

    def name(self) -> str:
        return "action_concern_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_concern_intro")
        return [SlotSet(slot, None) for slot in CONCERN_SLOTS] + [SlotSet("requested_slot", None)]


def _children(db: Database, sender_id: str) -> list[tuple[int, str]]:
    """(id, label) of the children this sender looks after."""
    with db.session() as session:
        person = links.find_person(session, sender_id)
        if person is None:
            return []
        children = links.linked_children(session, person)
        return [(child.id, links.child_label(child, i)) for i, child in enumerate(children)]


class ValidateConcernForm(FormValidationAction):
    """Checks each answer; asks which child only when the guardian looks after several.

    The domain lists concern_child first; with one linked child (or none) it is dropped.
    """

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    def name(self) -> str:
        return "validate_concern_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # "停/算了/stop" at any question ends the form; action_concern_submit then says so
        # and saves nothing. Decided on the words: "这几天" may look like `stop` to the model.
        requested = tracker.get_slot("requested_slot")
        if requested and concerns.is_stop(_text(tracker)):
            return [SlotSet(requested, None), SlotSet("concern_stopped", True),
                    SlotSet("requested_slot", None)]
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if len(_children(self.db, tracker.sender_id)) > 1:
            return domain_slots
        return [slot for slot in domain_slots if slot != "concern_child"]

    def validate_concern_child(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        children = _children(self.db, tracker.sender_id)
        return {"concern_child": match_child(str(value or ""), children)}

    def validate_concern_what(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        return {"concern_what": text[:2000] if text else None}

    def validate_concern_since(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"concern_since": concerns.normalise_since(str(value or ""))}

    def validate_concern_urgency(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"concern_urgency": concerns.parse_urgency(str(value or ""))}

    def validate_concern_callback(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value in ("yes", "no"):
            return {"concern_callback": value}
        answer = concerns.parse_yes_no(str(value or ""))
        return {"concern_callback": None if answer is None else ("yes" if answer else "no")}


def match_child(text: str, children: list[tuple[int, str]]) -> Optional[str]:
    """The child's id (as text) for a tapped number or a typed name; NO_CHILD for "another"."""
    answer = text.strip()
    if answer.isdigit() and 1 <= int(answer) <= len(children):
        return str(children[int(answer) - 1][0])
    for child_id, label in children:
        if label and (label in answer or answer in label) and len(answer) > 0:
            return str(child_id)
    if _OTHER_CHILD.search(answer):
        return NO_CHILD
    return None


class ActionAskConcernChild(Action):
    """The form's question for concern_child, with one button per linked child."""

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    def name(self) -> str:
        return "action_ask_concern_child"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = language_of(tracker)
        children = _children(self.db, tracker.sender_id)
        other = "别的孩子" if lang == "zh" else "Another child"
        choices = [{"title": label, "payload": str(i + 1)} for i, (_, label) in enumerate(children)]
        choices.append({"title": other, "payload": other})
        dispatcher.utter_message(response="utter_concern_which_child", buttons=choices)
        return []


class ActionConcernSubmit(Action):
    """The finished form becomes a concern case for the child's social worker; a report
    stopped half-way ("算了") saves nothing and says so."""

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    def name(self) -> str:
        return "action_concern_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset = [SlotSet(slot, None) for slot in CONCERN_SLOTS]
        if tracker.get_slot("concern_stopped") or not tracker.get_slot("concern_what"):
            dispatcher.utter_message(response="utter_concern_stopped")
            return reset
        report = report_from(tracker)
        try:
            with self.db.session() as session:
                filed = concerns.file_concern(session, report, source_key(tracker, "concern"))
        except Exception:  # noqa: BLE001 - say so, and point to the phone numbers
            logger.exception("concern report of %s not saved", tracker.sender_id)
            dispatcher.utter_message(response="utter_concern_not_saved")
            return []
        if filed.worker is not None:
            dispatcher.utter_message(response="utter_concern_filed", worker_name=filed.worker.name)
        else:
            dispatcher.utter_message(response="utter_concern_filed_unassigned")
        if report.callback is not None:
            follow = "utter_concern_will_call" if report.callback else "utter_concern_no_call"
            dispatcher.utter_message(response=follow)
        if report.urgency == "urgent":
            dispatcher.utter_message(response="utter_concern_urgent")
        return reset


def report_from(tracker: Tracker) -> concerns.ConcernReport:
    child = tracker.get_slot("concern_child")
    callback = tracker.get_slot("concern_callback")
    return concerns.ConcernReport(
        sender_id=tracker.sender_id,
        what=tracker.get_slot("concern_what") or "",
        since=tracker.get_slot("concern_since"),
        urgency=concerns.parse_urgency(tracker.get_slot("concern_urgency")) or "soon",
        callback=None if callback not in ("yes", "no") else callback == "yes",
        language=language_of(tracker),
        role=tracker.get_slot("role") or "guardian",
        child_id=int(child) if child and str(child).isdigit() else None,
    )


# --- links and the social worker ----------------------------------------------------------


class ActionSocialWorker(Action):
    """"Who is our social worker?": the contact each worker chose to share, or how to link."""

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    def name(self) -> str:
        return "action_social_worker"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        with self.db.session() as session:
            person = links.find_person(session, tracker.sender_id)
            contacts = links.workers_for(session, person) if person is not None else []
        if not contacts:
            dispatcher.utter_message(response="utter_social_worker_none")
            dispatcher.utter_message(response="utter_code_ask")
            return []
        for contact in contacts:
            if contact.contact:
                dispatcher.utter_message(
                    response="utter_social_worker_contact",
                    worker_name=contact.name,
                    worker_contact=contact.contact,
                )
            else:
                dispatcher.utter_message(
                    response="utter_social_worker_no_contact", worker_name=contact.name
                )
        return []


class ActionUseCode(Action):
    """An invite code links this guardian to a child (or this child to a social worker)."""

    def __init__(self, db: Optional[Database] = None) -> None:
        self.db = db or Database()

    def name(self) -> str:
        return "action_use_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = _entity(tracker, "invite_code") or links.code_in_text(
            (tracker.latest_message or {}).get("text") or ""
        )
        if not code:
            dispatcher.utter_message(response="utter_code_ask")
            return []
        lang = language_of(tracker)
        with self.db.session() as session:
            person = links.ensure_person(
                session, tracker.sender_id, tracker.get_slot("role"), lang
            )
            result = links.redeem(session, person, code)
        events = self._reply(dispatcher, result, lang)
        if result.status == "linked_child" and tracker.get_slot("role") is None:
            events.append(SlotSet("role", "guardian"))  # a guardian now: no role question
        return events

    @staticmethod
    def _reply(
        dispatcher: CollectingDispatcher, result: links.RedeemResult, lang: str
    ) -> list[EventType]:
        if result.status == "linked_child":
            name = result.child_name or ("孩子" if lang == "zh" else "the child")
            dispatcher.utter_message(response="utter_code_linked_child", child_name=name)
            return []
        if result.status == "linked_worker":
            name = result.worker.name if result.worker else ("社工" if lang == "zh" else "a worker")
            dispatcher.utter_message(response="utter_code_linked_worker", worker_name=name)
            return []
        response = "utter_code_locked" if result.status == "locked" else "utter_code_invalid"
        dispatcher.utter_message(response=response)
        return []
