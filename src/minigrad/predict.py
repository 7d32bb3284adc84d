"""Prediction from a saved run: the next word (lm runs) or the answer (qa runs)."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import runs
from .autograd import no_grad
from .config import load_config
from .data import encode_context, encode_qa
from .data.vocab import PAD_ID, UNK_ID
from .errors import ConfigError
from .models import build_model


@dataclass
class Predictor:
    """A trained model with its vocabulary, ready to answer."""

    run_dir: Path
    mode: str
    model: object
    vocab: object
    meta: dict

    @classmethod
    def load(cls, run_dir):
        """Rebuild the model a run folder describes and load its weights."""
        saved = runs.load_run(run_dir)
        config = load_config(saved.path / "config.yaml", {"device": "cpu"})
        model = build_model(config, len(saved.vocab))
        model.load_state_dict(saved.weights)
        return cls(saved.path, saved.meta["mode"], model.eval(), saved.vocab, saved.meta)

    def next_word(self, context, top_k=5):
        """The ``top_k`` likeliest words after ``context``, as (word, probability) pairs."""
        self._expect("lm", "--context")
        ids = encode_context(context, self.vocab)
        with no_grad():
            scores = self.model(ids)
        return self._top(scores.data[0, -1], top_k)

    def answer(self, story, question, top_k=5):
        """The ``top_k`` likeliest answers to ``question`` about ``story``."""
        self._expect("qa", "--story and --question")
        stories, questions = encode_qa(f"{story} {question}", self.vocab,
                                       self.meta["story_len"], self.meta["question_len"])
        with no_grad():
            scores = self.model(stories, questions)
        return self._top(scores.data[0], top_k)

    def _expect(self, mode, options):
        if self.mode != mode:
            usage = "--context" if self.mode == "lm" else "--story and --question"
            raise ConfigError(f"{self.run_dir} is a {self.mode} run, which does not take {options}.",
                              hint=f"Use {usage} with this run, or pass another with --run.")

    def _top(self, scores, k):
        """Softmax over the real words (not <pad> or <unk>), best ``k`` first."""
        scores = np.asarray(scores, dtype=np.float64).copy()
        scores[[PAD_ID, UNK_ID]] = -np.inf
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        best = np.argsort(-probs)[:min(k, len(probs) - 2)]  # never list <pad> or <unk> to fill up k
        return [(self.vocab.words[i], float(probs[i])) for i in best]
