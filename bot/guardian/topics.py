"""Which caregiving topic a message is about, and whether it is a follow-up instead.

The intent classifier ranks the topics (its response_selector output); when it is unsure,
words that plainly name a topic
(data/content/caregiving/_topic_words.yml: 游泳, 水库, bullied …) break the tie. The same
words tell a follow-up ("要是他不答应呢") from a new question on another topic.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Optional, Sequence

from bot.guardian.caregiving import RETRIEVAL_INTENT, TOPICS, topic_from_key
from bot.guardian.content import CAREGIVING_DIR, load_yaml

WORD_WEIGHT = 0.35  # one topic word against the selector's confidence (tuned on data/nlu)
MAX_WORDS = 3
CONFIDENT = 0.9  # above this the selector is trusted as it is
# How people start a follow-up without naming the topic again.
_FOLLOW_UP_CUE = re.compile(
    r"^\s*(那|那么|那要是|要是|如果|万一|可是|但是|可他|可她|他要是|她要是|还是不|他还是|她还是"
    r"|我照你说的|照你说的|这样|那样)"
    r"|(不听|不肯|不答应|不配合|不管用|没用|还是不行|再这样|咋办呢|怎么办呢|怎么做到|做不到|做得到"
    r"|咋做|怎么做)"
    r"|^\s*(what if|and if|but if|but what|and what|so what|what about|then what|what do i do if"
    r"|what should i do now|it didn'?t work|that didn'?t work|he still|she still|they still)",
    re.I,
)

# "Say more" without naming the topic: the deeper answer rather than a what-if part.
_MORE_CUE = re.compile(
    r"(还有别的|还有其他|别的办法|其他办法|其它办法|还有啥|再说说|多说|详细|具体(该|怎么|咋)|一步一步"
    r"|\bany other\b|\bother ways?\b|\banything else\b|\bmore (ideas|tips|ways)\b|\bwhat else\b"
    r"|\bin detail\b|\bstep by step\b|\btell me more\b)",
    re.I,
)

Ranking = Sequence[tuple[str, float]]


@lru_cache(maxsize=1)
def _patterns() -> dict[str, tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]]:
    words = load_yaml(CAREGIVING_DIR / "_topic_words.yml")
    return {
        topic: (
            tuple(str(w) for w in words[topic].get("zh") or []),
            tuple(re.compile(rf"\b(?:{w})\b", re.I) for w in words[topic].get("en") or []),
        )
        for topic in TOPICS
    }


def word_hits(text: str) -> dict[str, int]:
    """Topic -> how many of its words the text contains (only topics with a hit)."""
    lowered = (text or "").lower()
    hits = {}
    for topic, (zh, en) in _patterns().items():
        count = sum(1 for w in zh if w in lowered) + sum(1 for p in en if p.search(lowered))
        if count:
            hits[topic] = count
    return hits


def ranking_from_selector(selector: dict) -> list[tuple[str, float]]:
    """The topic ranking (response_selector output) as (topic, confidence), best first."""
    ranking = []
    for item in selector.get("ranking") or []:
        topic = topic_from_key(item.get("intent_response_key"))
        if topic:
            ranking.append((topic, float(item.get("confidence") or 0.0)))
    if not ranking:
        response = selector.get("response") or {}
        topic = topic_from_key(response.get("intent_response_key"))
        if topic:
            ranking.append((topic, float(response.get("confidence") or 0.0)))
    return ranking


def choose(ranking: Ranking, text: str) -> Optional[str]:
    """The selector's topic, unless it is unsure and the words point elsewhere."""
    scores = {topic: conf for topic, conf in ranking}
    if ranking and ranking[0][1] >= CONFIDENT:
        return ranking[0][0]
    for topic, count in word_hits(text).items():
        scores[topic] = scores.get(topic, 0.0) + WORD_WEIGHT * min(count, MAX_WORDS)
    if not scores:
        return None
    return max(scores.items(), key=lambda item: item[1])[0]


def names_another_topic(text: str, current: Optional[str]) -> bool:
    return any(topic != current for topic in word_hits(text))


def has_follow_up_cue(text: str) -> bool:
    return bool(_FOLLOW_UP_CUE.search(text or "")) or has_more_cue(text)


def has_more_cue(text: str) -> bool:
    return bool(_MORE_CUE.search(text or ""))


def looks_like_follow_up(text: str, current: Optional[str]) -> bool:
    """A what-if / then-what about the current topic that names no other topic."""
    if not current or not text:
        return False
    return has_follow_up_cue(text) and not names_another_topic(text, current)


def topics_named(texts: Iterable[str]) -> set[str]:
    return {topic for text in texts for topic in word_hits(text)}


# A grandparent's question the intent classifier took for a child's own feeling or school
# worry (孩子老是哭 -> feel_sad, "she is teased at school" -> school_stress) or did not
# understand. A guardian asking it wants caregiving help: answer on the topic when the
# selector or the topic words are clear about it. Children are never rerouted.
GUARDIAN_REROUTE = frozenset({
    "school_stress", "feel_worried", "feel_sad", "feel_angry", "feel_lonely", "feel_bored",
    "friend_trouble", "miss_parents", "low_confidence", "chores_burden", "mood_checkin",
    "out_of_scope", "ask_help", "nlu_fallback", "dont_understand",
})
REROUTE_CONFIDENT = 0.7  # the selector's top topic, for a rerouted message (tuned on heldout)


def guardian_topic(intent: Optional[str], ranking: Ranking, text: str) -> Optional[str]:
    """The caregiving topic to answer a guardian's message with, or None."""
    if intent == RETRIEVAL_INTENT:
        return choose(ranking, text)
    if intent not in GUARDIAN_REROUTE:
        return None
    if (ranking and ranking[0][1] >= REROUTE_CONFIDENT) or word_hits(text):
        return choose(ranking, text)
    return None
