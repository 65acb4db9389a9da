"""Which language a message is in: `zh` (Chinese characters or toneless pinyin) or `en`.

Emits the entity `language`, which fills the `language` slot through a plain slot mapping,
so replies switch language without the action server. Messages with no letters at all
(emoji, digits) emit nothing and the conversation keeps its language.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.text import CJK_RE, LATIN_WORD_RE, normalize_same_length

LANGUAGE_ENTITY = "language"


@lru_cache(maxsize=1)
def pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable, from pypinyin's own character table."""
    from pypinyin import Style, lazy_pinyin, pinyin_dict

    syllables = set()
    for code in pinyin_dict.pinyin_dict:
        for reading in lazy_pinyin(chr(code), style=Style.NORMAL, errors="ignore"):
            syllables.add(reading.replace("ü", "v"))
    syllables.update({"lv", "nv", "lue", "nue"})
    # Interjection readings (嗯 n, 呣 m, 哼 hng) would let any English word segment.
    syllables -= {"n", "m", "ng", "hm", "hng", "r"}
    return frozenset(s for s in syllables if s.isascii() and s.isalpha())


def _segments_as_pinyin(word: str) -> bool:
    """True if `word` splits into pinyin syllables ("nihao", "woxiangmama")."""
    syllables = pinyin_syllables()
    reachable = [True] + [False] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            piece = word[start:end]
            # A one-letter syllable (a/e/o) only counts as a whole word, never a piece.
            if len(piece) == 1 and len(word) > 1:
                continue
            if reachable[start] and piece in syllables:
                reachable[end] = True
                break
    return reachable[-1]


# Frequent English words that also happen to be pinyin syllables.
_ENGLISH_LOOKALIKES = frozenset(
    "a an as i in is it me he she we you my no so go do to die den long man men hen pen "
    "ten sun run fan can tan ban bang gang hang sang pang wang hung ping ding dong song "
    "yes yo hi ha ok la ma mama papa".split()
)


def is_pinyin(text: str) -> bool:
    words = [w.lower() for w in LATIN_WORD_RE.findall(text)]
    if not words:
        return False
    pinyin_words = [w for w in words if _segments_as_pinyin(w)]
    if len(pinyin_words) != len(words):
        return False
    # "he is sad" fails above; "long man" passes it, so demand some clearly-pinyin word.
    distinctive = [w for w in words if w not in _ENGLISH_LOOKALIKES]
    return bool(distinctive) and (len(words) >= 2 or len(words[0]) >= 4)


def detect_language(text: str) -> Optional[str]:
    """`zh`, `en`, or None when the text has no letters to judge by."""
    if not text or text.startswith("/"):
        return None
    text = normalize_same_length(text)
    cjk = len(CJK_RE.findall(text))
    latin = sum(len(w) for w in LATIN_WORD_RE.findall(text))
    if cjk == 0 and latin == 0:
        return None
    if cjk and cjk * 2 >= latin:  # "我想玩game" is Chinese; "I love 饺子 so much" is English
        return "zh"
    if cjk == 0 and is_pinyin(text):
        return "zh"
    return "en"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageDetector(GraphComponent):
    """Adds a `language` entity to every message that has letters."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        pinyin_syllables()
        return cls()

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            language = detect_language(message.get(TEXT) or "")
            if language:
                entities = [
                    e for e in message.get(ENTITIES, []) if e.get("entity") != LANGUAGE_ENTITY
                ]
                entities.append(
                    {
                        "entity": LANGUAGE_ENTITY,
                        "value": language,
                        "start": 0,
                        "end": 0,
                        "confidence": 1.0,
                        "extractor": self.__class__.__name__,
                    }
                )
                message.set(ENTITIES, entities, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
