"""A tokenizer for mixed Chinese / English / pinyin / emoji text.

Chinese runs go through jieba; Latin runs are split into words; each emoji is a token.
Tokens carry normalised text (simplified, half-width, lower-case) but original offsets.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.text import normalize_same_length

# A run of CJK characters, a Latin/digit word, or one symbol (emoji and the like).
_RUN_RE = re.compile(
    r"(?P<cjk>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)"
    r"|(?P<word>[a-z0-9]+(?:'[a-z]+)?)"
    r"|(?P<symbol>[^\s\w.,!?;:，。！？；：、…~\-\"'“”‘’()（）\[\]【】《》]|[?？!！])"
)


def split_tokens(text: str) -> list[tuple[str, int]]:
    """Return (normalised token, start offset) pairs for `text`."""
    import jieba

    normalised = normalize_same_length(text)
    tokens: list[tuple[str, int]] = []
    for match in _RUN_RE.finditer(normalised):
        if match.lastgroup == "cjk":
            start = match.start()
            for word, begin, _end in jieba.tokenize(match.group()):
                tokens.append((word, start + begin))
        else:
            tokens.append((match.group(), match.start()))
    return tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class PeibanTokenizer(Tokenizer):
    """jieba for Chinese, word split for Latin script, emoji kept as tokens."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        return None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "PeibanTokenizer":
        import jieba

        jieba.setLogLevel(60)  # jieba prints its cache notice on every process start
        jieba.initialize()
        return cls(config)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        tokens = [Token(word, start) for word, start in split_tokens(text)]
        if not tokens:
            # Rasa needs at least one token; an emoji-free, word-free message is "empty".
            tokens = [Token("__empty__", 0)]
        return self._apply_token_pattern(tokens)
