"""Prediction from a saved run: the next word (lm runs) or the answer (qa and memory runs)."""

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..autograd import no_grad
from ..data import encode_context, encode_memory, encode_qa
from ..data.vocab import PAD_ID, UNK_ID
from ..errors import CheckpointError, ConfigError, MinigradError
from ..models import build_model
from . import best, runs
from .config import load_config


class MemoryReading(NamedTuple):
    """What a memory network answered, and how much each hop attended to each statement."""

    candidates: list  # (word, probability), likeliest first
    statements: list  # the story's statements, as text
    attention: list  # per hop, one weight per statement
    empty: list  # per hop, the weight on the empty slots: "no statement matches" (0 if empty slots are masked)
    # (the table's title, what each column is): a QRN shows every layer's update gates instead
    labels: tuple = ("attention over the story", "hop")


@dataclass
class Predictor:
    """A trained model with its vocabulary, ready to answer."""

    run_dir: Path
    mode: str
    model: object
    vocab: object
    meta: dict
    weights: str = "last"  # which weights it holds, in words: "best on validation (epoch 7)"
    config: object = None

    @classmethod
    def load(cls, run_dir, which="best"):
        """Rebuild the model a run folder describes and load its ``which`` weights: ``best`` or ``last``."""
        saved = runs.load_run(run_dir, metrics=False)
        # check_data=False: the run folder is all prediction needs; the data may have moved.
        config = load_config(saved.path / "config.yaml", {"device": "cpu"}, check_data=False)
        if saved.meta["mode"] != config.data.mode:
            raise CheckpointError(f"{saved.path / 'meta.json'} says mode {saved.meta['mode']!r}, but "
                                  f"config.yaml says {config.data.mode!r}.",
                                  hint="One of the two files was changed; train the run again.")
        model = build_model(config, len(saved.vocab))
        weights, file, label = choose_weights(saved, which)
        runs.load_weights(model, weights, file)
        return cls(saved.path, saved.meta["mode"], model.eval(), saved.vocab, saved.meta, label, config)

    def next_word(self, context, top_k=5):
        """The ``top_k`` likeliest words after ``context``, as (word, probability) pairs."""
        self._expect(("lm",), "--context")
        ids = encode_context(context, self.vocab)
        with no_grad():
            scores = self.model(ids)
        return self._top(scores.data[0, -1], top_k)

    def answer(self, story, question, top_k=5):
        """The ``top_k`` likeliest answers to ``question`` about ``story``."""
        self._expect(("qa", "memory"), "--story and --question")
        if self.mode == "memory":
            if self.shows_attention:
                return self.read_memory(story, question, top_k).candidates
            inputs = self._memory_batch(story, question)[0][:-1]  # all but the answer
        else:
            inputs = encode_qa(f"{story} {question}", self.vocab, self.meta["story_len"], self.meta["question_len"])
        with no_grad():
            scores = self.model(*inputs)
        return self._top(scores.data[0], top_k)

    @property
    def shows_attention(self):
        """Whether the model tells where it looked (a memory network's ``attend``; a class of your own may not)."""
        return self.mode == "memory" and hasattr(self.model, "attend")

    @property
    def memory_size(self):
        """The most statements a question keeps: the memory network's, else as many slots as training had."""
        return getattr(self.model, "memory_size", None) or self.meta["slots"]

    def _memory_batch(self, story, question):
        # Runs saved before meta.json recorded slots and punctuation kept their marks and no empty slots.
        return encode_memory(f"{story} {question}", self.vocab, self.meta["sentence_len"], self.memory_size,
                             slots=self.meta.get("slots"), punctuation=self.meta.get("punctuation", "keep"))

    def read_memory(self, story, question, top_k=5):
        """A memory network's answer and where it looked: a ``MemoryReading``.

        ``attention`` holds, for every hop, one weight per statement of the
        story in story order (0 for statements older than the memory holds),
        and ``empty`` the weight the hop put on the memory's empty slots.
        """
        self._expect(("memory",), "--story and --question")
        batch, statements = self._memory_batch(story, question)
        with no_grad():
            scores, weights = self.model.attend(batch.memories, batch.questions, batch.times, batch.mask)
        kept = int(batch.mask.sum())
        forgotten = [0.0] * (len(statements) - kept)
        attention = [forgotten + w.data[0, :kept].tolist() for w in weights]
        empty = [float(w.data[0, kept:].sum()) for w in weights]
        return MemoryReading(self._top(scores.data[0], top_k), [" ".join(s) for s in statements], attention, empty,
                             getattr(self.model, "reading_labels", MemoryReading._field_defaults["labels"]))

    def _expect(self, modes, options):
        if self.mode not in modes:
            usage = "--context" if self.mode == "lm" else "--story and --question"
            raise ConfigError(f"{self.run_dir} is a {self.mode} run, which does not take {options}.",
                              hint=f"Use {usage} with this run, or pass another with --run.")

    def _top(self, scores, k):
        """Softmax over the real words (not <pad> or <unk>), best ``k`` first.

        A memory network's scores may go on past the words (its ages are answer
        candidates too, as time words); the listing is of words.
        """
        scores = np.asarray(scores, dtype=np.float64)[:len(self.vocab.words)].copy()
        scores[[PAD_ID, UNK_ID]] = -np.inf
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        best = np.argsort(-probs)[:min(k, len(probs) - 2)]  # never list <pad> or <unk> to fill up k
        return [(self.vocab.words[i], float(probs[i])) for i in best]


WEIGHTS = ("best", "last")


def choose_weights(saved, which):
    """(weights, their file, which they are in words) of a ``runs.SavedRun``: its best epoch's or its last's.

    ``best`` is the epoch chosen on validation (``best.npz``); a run without a
    validation split has no best, and gives its last.
    """
    if which not in WEIGHTS:
        raise ConfigError(f"--weights {which!r}: give best or last.",
                          hint="best: the epoch with the best validation score; last: the last epoch trained.")
    found = best.load_weights(saved.path) if which == "best" else None
    if found is not None:
        return found[0], saved.path / best.WEIGHTS, f"best on validation (epoch {found[1]['epoch']})"
    why = "" if which == "last" else ": the run keeps no best epoch (it has no validation split)"
    return saved.weights, saved.path / "weights.npz", f"last (epoch {saved.epoch}){why}"


def ask(run, context=None, story=None, story_file=None, question=None, top_k=5, weights="best"):
    """What ``minigrad predict`` shows: (what was predicted, (word, p) pairs, a ``MemoryReading`` or None,
    which weights answered).

    The next word of ``context``, or the answer to ``question`` about the
    story (``story``, or the text of ``story_file``); a memory network also
    tells where each hop looked.
    """
    _check_inputs(context, story, story_file, question)
    predictor = Predictor.load(run, weights)
    found = _asked(predictor, context, story, story_file, question, top_k)
    return (*found, predictor.weights)


def _asked(predictor, context, story, story_file, question, top_k):
    if context is not None:
        return "next word", predictor.next_word(context, top_k), None
    if question is None:
        raise MinigradError("nothing to predict.", hint="Pass --context \"mary moved to the\", "
                            "or --story \"...\" --question \"where is mary?\".")
    text = _story_text(story, story_file)
    if predictor.shows_attention:  # a memory network also shows where each hop looked
        reading = predictor.read_memory(text, question, top_k)
        return "answer", reading.candidates, reading
    return "answer", predictor.answer(text, question, top_k), None


def _check_inputs(context, story, story_file, question):
    """Refuse inputs that would be silently dropped: each run answers one kind of request."""
    if context is not None and (story, story_file, question) != (None, None, None):
        raise MinigradError("--context asks a language-model run for the next word; --story and --question "
                            "ask a question-answering run: give one or the other.")
    if story is not None and story_file is not None:
        raise MinigradError("both --story and --story-file give the story: give one.")


MAX_STORY_BYTES = 256 << 10  # a bAbI story is a few kilobytes; the memory network reads its last 50 lines


def _story_text(story, story_file):
    if story_file is None:
        return story or ""
    try:
        with open(story_file, "rb") as file:
            data = file.read(MAX_STORY_BYTES + 1)  # /dev/zero, or a disk image, is never read whole
    except OSError as exc:
        raise MinigradError(f"cannot read --story-file {story_file}: {exc.strerror}.") from None
    if len(data) > MAX_STORY_BYTES:
        raise MinigradError(f"--story-file {story_file} is larger than {MAX_STORY_BYTES >> 10} KiB.",
                            hint="Give the story a question is about: its statements, one a line.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MinigradError(f"--story-file {story_file} is not UTF-8 text (byte {exc.start}).",
                            hint="Save the story as UTF-8 text, one statement a line.") from None
