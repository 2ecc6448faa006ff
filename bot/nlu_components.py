"""Rasa components of our own: a tokenizer for all eight launch languages at once.

Chinese and Japanese have no spaces, so Rasa's whitespace tokenizer would turn a whole
sentence into one token. This one keeps whitespace words for Latin, Cyrillic and Hangul text
and splits runs of Han and kana into single characters; the featurizers' word n-grams then see
the characters' bigrams, which is what carries meaning there (提现, 出金, 入金).
"""

from __future__ import annotations

import re
from typing import Any, Optional

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class MultilingualTokenizer(WhitespaceTokenizer):
    """Whitespace words, with Han and kana split into one token per character."""

    @staticmethod
    def not_supported_languages() -> Optional[list[str]]:
        return None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = []
        for token in super().tokenize(message, attribute):
            if not _CJK_CHAR.search(token.text):
                tokens.append(token)
                continue
            for piece in re.finditer(_CJK_CHAR.pattern + r"|[^" + _CJK_CHAR.pattern[1:-1] + r"]+", token.text):
                tokens.append(Token(piece.group(), token.start + piece.start()))
        return tokens
