"""Rasa's count-vectors featurizer, reduced to what our classifiers read: one sentence row of
n-gram counts for a message's text.

Rasa's `CountVectorsFeaturizer` also builds a row per token (sequence features, for DIET and
CRF, which this pipeline does not run) and goes through scikit-learn's general `transform`,
whose sparse-matrix checks cost more than the counting: together about half of a message's
time in the pipeline. Training (the vocabulary) is Rasa's own, unchanged; the sentence row is
the same counts over the same analyzer, so the model's answers do not change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from sklearn.feature_extraction.text import CountVectorizer


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceCountsFeaturizer(CountVectorsFeaturizer):
    """Sentence-level n-gram counts of the text only; configured as `CountVectorsFeaturizer`."""

    def process(self, messages: list[Message]) -> list[Message]:
        """Each message's counts as plain arrays (`SENTENCE_COUNTS`, one entry a featurizer in
        the order they ran), read by the classifier: no sparse matrix is built for a message
        (scipy's checks on building one cost more than the counting)."""
        vectorizer = (self.vectorizers or {}).get(TEXT)
        if vectorizer is None:
            return super().process(messages)
        count = _counter_for(vectorizer)
        width = len(getattr(vectorizer, "vocabulary_", None) or vectorizer.vocabulary)
        for message in messages:
            tokens = self._get_processed_message_tokens_by_attribute(message, TEXT)
            counted = count(" ".join(tokens)) if tokens else _NOTHING
            message.set(SENTENCE_COUNTS, [*(message.get(SENTENCE_COUNTS) or []), (*counted, width)])
        return messages


SENTENCE_COUNTS = "sentence_counts"  # [(columns, counts, width)]: the text's n-gram counts, per featurizer
_NOTHING = (np.zeros(0, np.int32), np.zeros(0, np.int64))


def _counter_for(vectorizer: CountVectorizer) -> Callable[[str], tuple[np.ndarray, np.ndarray]]:
    """What `vectorizer.transform([text])` holds: its sorted column indices and their counts."""
    counter = getattr(vectorizer, "_supportbot_counter", None)
    if counter is None:
        vocabulary = getattr(vectorizer, "vocabulary_", None) or vectorizer.vocabulary
        columns_of = _columns_by_word(vectorizer, vocabulary)
        binary, dtype = vectorizer.binary, vectorizer.dtype

        def counter(text: str) -> tuple[np.ndarray, np.ndarray]:
            counts = Counter(columns_of(text))
            columns = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
            values = np.ones(len(columns), dtype) if binary else np.fromiter(
                (counts[c] for c in columns.tolist()), dtype, count=len(columns))  # fmt: skip
            return columns, values

        vectorizer._supportbot_counter = counter
    return counter


def _columns_by_word(vectorizer: CountVectorizer, vocabulary: dict) -> Callable[[str], list[int]]:
    """The text's n-grams as vocabulary columns. Character n-grams inside word boundaries
    (`char_wb`) belong to one word each, so a word's columns are worked out once and kept
    (words repeat: most of a message's n-grams were seen before)."""
    analyze = vectorizer.build_analyzer()

    def columns(text: str) -> list[int]:
        return [index for index in map(vocabulary.get, analyze(text)) if index is not None]

    if vectorizer.analyzer != "char_wb":
        return columns
    known: dict[str, list[int]] = {}

    def columns_by_word(text: str) -> list[int]:
        found = []
        for word in text.split():
            if word not in known:
                if len(known) >= _WORDS_KEPT:
                    known.clear()
                known[word] = columns(word)
            found += known[word]
        return found

    return columns_by_word


_WORDS_KEPT = 50_000  # about 12 MB at most; cleared when full
