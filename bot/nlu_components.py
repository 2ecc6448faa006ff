"""Rasa components of our own: a tokenizer for all eight launch languages at once, and an
intent classifier over TF-IDF weighted n-grams.

Chinese and Japanese have no spaces, so Rasa's whitespace tokenizer would turn a whole
sentence into one token. This one keeps whitespace words for Latin, Cyrillic and Hangul text
and splits runs of Han and kana into single characters; the featurizers' word n-grams then see
the characters' bigrams, which is what carries meaning there (提现, 出金, 入金).
"""

from __future__ import annotations

import re
from typing import Any, Optional

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

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


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Rasa's logistic regression over TF-IDF weighted features, with its strength settable.

    Raw counts let frequent n-grams ("my", "的", "de") outvote the rare ones that name the
    topic; sublinear TF-IDF evens that out, and a weaker regularisation (C=30) fits the many
    sparse n-grams of eight languages. Measured on the held-out set: 92.5% against 90.3%
    for Rasa's own classifier (README, "NLU pipeline").
    """

    _TRUSTED = {
        "sklearn.pipeline.Pipeline",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "scipy.sparse._csr.csr_matrix",
    }

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0, "sublinear_tf": True}

    def __init__(self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf = Pipeline(
            [
                ("tfidf", TfidfTransformer(sublinear_tf=self.config["sublinear_tf"])),
                ("lr", LogisticRegression(
                    C=self.config["C"], solver=self.config["solver"], max_iter=self.config["max_iter"],
                    tol=self.config["tol"], random_state=self.config["random_state"], class_weight="balanced",
                )),  # fmt: skip
            ]
        )

    @property
    def classes_(self) -> Any:
        return self.clf.classes_

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfLogisticRegressionClassifier:
        """Load the trained classifier; fail loudly rather than run untrained (Rasa's own
        classifier silently starts empty when its file does not load)."""
        import skops.io as sio

        with model_storage.read_from(resource) as model_dir:
            path = model_dir / f"{resource.name}.skops"
            untrusted = set(sio.get_untrusted_types(file=path))
            if untrusted - cls._TRUSTED:
                raise ValueError(f"refusing to load {path.name}: unexpected types {sorted(untrusted - cls._TRUSTED)}")
            component = cls(config, execution_context.node_name, model_storage, resource)
            component.clf = sio.load(path, trusted=sorted(untrusted))
            component._fast_predict()
            return component

    def _fast_predict(self) -> None:
        """scikit-learn multiplies by `coef_.T`; scipy copies that whole matrix on every call
        unless it is contiguous, which cost 3 ms a message. Fortran order makes it so."""
        lr = self.clf.named_steps["lr"]
        lr.coef_ = np.asfortranarray(lr.coef_)
