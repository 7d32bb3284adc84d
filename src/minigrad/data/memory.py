"""Stories as memories, for memory networks (``mode: memory``).

Each question becomes one example: the statements of its story that come
before it (the last ``memory_size`` of them), each a row of word ids, then
the question and the answer's id. A batch is a ``MemoryBatch``:

* ``memories`` (batch, slots, words): the statements, oldest first, one per
  slot; rows are padded on the right with ``<pad>``, and slots past a
  story's last statement are all ``<pad>``;
* ``questions`` (batch, words), padded the same way;
* ``times`` (batch, slots): each statement's age, 0 for the most recent;
* ``mask`` (batch, slots): true where a slot holds a statement;
* ``answers`` (batch,).

Statements and questions share one padded length, ``sentence_len``, taken
from the training data (a longer test sentence keeps its first words), so
one position encoding fits them all. The number of slots is fixed by the
training data too, as in the authors' code: as many as the longest training
story needs, at most ``memory_size``. Every split has that many, so an empty
slot (a zero vector the model may attend to; see ``minigrad.models.memory``)
is there as often at test time as in training.

Random noise (``random_noise``, training batches only): the paper's way to
keep temporal encoding from overfitting. For each question with ``n``
statements, ``randint(0, ceil(random_noise * n))`` empty places are slipped
in among their ages, at random, and the ages are then capped at the largest
one the slots allow (``slots - 1``), as the authors' code does, so a full
memory gets its noise too. The order of the statements is kept.
"""

from typing import NamedTuple

import numpy as np

from ..errors import DataError
from .babi import PUNCTUATION, tokenize
from .batching import _SENTENCE_END, ID_DTYPE, batch_indices, split_question
from .vocab import PAD_ID


class MemoryBatch(NamedTuple):
    """Memory-network batch; ``answers`` comes last, as every batch's target does."""

    memories: np.ndarray  # (batch, slots, words) int
    questions: np.ndarray  # (batch, words) int
    times: np.ndarray  # (batch, slots) int, 0 = the most recent statement
    mask: np.ndarray  # (batch, slots) bool, true where a slot holds a statement
    answers: np.ndarray  # (batch,) int


class MemoryExample(NamedTuple):
    """One question as ids: the statements before it (oldest first), itself, its answer."""

    sentences: list
    question: list
    answer: int


def memory_examples(stories, vocab, memory_size):
    """One ``MemoryExample`` per question, keeping the last ``memory_size`` statements before it."""
    examples = []
    for story in stories:
        for question in story.questions:
            context = story.context(question)[-memory_size:]
            examples.append(MemoryExample([vocab.encode(s.tokens) for s in context], vocab.encode(question.tokens),
                                          vocab.encode([question.answer])[0]))
    return examples


def _pad_ids(ids, shape):
    """An (N, ...) id array padded on the right with ``<pad>`` to (N, *shape)."""
    return np.pad(ids, [(0, 0)] + [(0, size - have) for size, have in zip(shape, ids.shape[1:])],
                  constant_values=PAD_ID)


def _ids(sentences, rows, sentence_len):
    """(rows, sentence_len) ids of the sentences, each cut to its first ``sentence_len`` words."""
    out = np.full((rows, sentence_len), PAD_ID, dtype=ID_DTYPE)
    for row, words in zip(out, sentences):
        words = words[:sentence_len]
        row[:len(words)] = words
    return out


class MemoryDataset:
    """Questions with their stories as memories (``mode: memory``); see the module's docstring.

    Args:
        memories, questions, answers, counts: per question, its statements
            (N, slots, words), its words (N, words), its answer (N,) and how
            many statements it has (N,).
        memory_size: the most statements a question may keep.
        random_noise: the fraction of empty places slipped among the ages of
            shuffled (training) batches; 0 for none.
    """

    def __init__(self, memories, questions, answers, counts, memory_size, random_noise=0.0):
        self.memories, self.questions, self.answers, self.counts = memories, questions, answers, counts
        self.memory_size, self.random_noise = memory_size, random_noise

    @classmethod
    def from_stories(cls, stories, vocab, memory_size=50, sentence_len=None, limit=None, random_noise=0.0,
                     slots=None):
        """The first ``limit`` questions of ``stories``.

        ``sentence_len`` defaults to the longest sentence here, and ``slots``
        to the most statements a question here has, at most ``memory_size``;
        a question keeps its last ``slots`` statements.
        """
        examples = memory_examples(stories, vocab, slots or memory_size)[:limit]
        sentence_len = sentence_len or max([len(s) for e in examples for s in e.sentences + [e.question]],
                                           default=1)
        slots = slots or max([len(e.sentences) for e in examples], default=1) or 1
        memories = np.stack([_ids(e.sentences, slots, sentence_len) for e in examples]) if examples else \
            np.zeros((0, slots, sentence_len), dtype=ID_DTYPE)
        questions = _ids([e.question for e in examples], len(examples), sentence_len)
        answers = np.array([e.answer for e in examples], dtype=ID_DTYPE)
        counts = np.array([len(e.sentences) for e in examples], dtype=ID_DTYPE)
        return cls(memories, questions, answers, counts, memory_size, random_noise)

    slots = property(lambda self: self.memories.shape[1])
    sentence_len = property(lambda self: self.memories.shape[2])
    lengths = property(lambda self: (self.slots, self.sentence_len))

    @classmethod
    def join(cls, parts, lengths=None):
        """The questions of ``parts``, in order, as one dataset.

        Slots and sentences are padded to ``lengths`` (``(slots,
        sentence_len)``, default: the largest of the parts).
        """
        slots, words = lengths or (max(p.slots for p in parts), max(p.sentence_len for p in parts))
        memories = np.concatenate([_pad_ids(p.memories, (slots, words)) for p in parts])
        questions = np.concatenate([_pad_ids(p.questions, (words,)) for p in parts])
        answers, counts = (np.concatenate([getattr(p, name) for p in parts]) for name in ("answers", "counts"))
        return cls(memories, questions, answers, counts, parts[0].memory_size, parts[0].random_noise)

    def __len__(self):
        return len(self.answers)

    def subset(self, index):
        """The questions at ``index`` (a slice or integer array), as a dataset of their own."""
        return MemoryDataset(self.memories[index], self.questions[index], self.answers[index],
                             self.counts[index], self.memory_size, self.random_noise)

    def batches(self, batch_size, rng=None, drop_last=False, replacement=False):
        """Yield ``MemoryBatch`` es of up to ``batch_size`` questions, drawn as ``batch_indices`` says.

        Random noise is added to the ages of shuffled batches only, so
        evaluation (which never shuffles) always sees the true ages.
        """
        noisy = rng is not None and self.random_noise > 0
        for index in batch_indices(len(self), batch_size, rng, drop_last, replacement):
            counts = self.counts[index]
            times = self._noisy_times(counts, rng) if noisy else true_times(counts, self.slots)
            yield MemoryBatch(self.memories[index], self.questions[index], times,
                              np.arange(self.slots) < counts[:, None], self.answers[index])

    def _noisy_times(self, counts, rng):
        """Ages with empty places slipped in: per question, n of n + blanks ages chosen at random.

        The places whose random keys are smallest are a uniform choice; the
        whole batch is drawn at once, and the chosen ages are handed out in
        order, the smallest to the most recent statement.
        """
        most = np.ceil(self.random_noise * counts).astype(ID_DTYPE)
        places = counts + rng.integers(0, most + 1)  # a full memory gets blanks too; its ages are capped below
        keys = rng.random((len(counts), max(int(places.max(initial=0)), self.slots)))
        keys[np.arange(keys.shape[1]) >= places[:, None]] = np.inf  # never choose past a question's places
        real = np.arange(self.slots) < counts[:, None]
        chosen = np.sort(np.where(real, np.argsort(keys, axis=1)[:, :self.slots], keys.shape[1]), axis=1)
        newest_first = np.clip(counts[:, None] - 1 - np.arange(self.slots), 0, None)
        ages = np.minimum(np.take_along_axis(chosen, newest_first, axis=1), self.slots - 1)
        return np.where(real, ages, 0).astype(ID_DTYPE)


def true_times(counts, slots):
    """(len(counts), slots) ages: n - 1 down to 0 over a question's n statements, 0 after them."""
    ages = counts[:, None] - 1 - np.arange(slots)
    return np.where(ages >= 0, ages, 0).astype(ID_DTYPE)


def memory_datasets(data, train_stories, test_stories, vocab, memory_size=50, random_noise=0.0):
    """(train, test) ``MemoryDataset`` s; the test set takes the training set's sentence length and slots."""
    train = MemoryDataset.from_stories(train_stories, vocab, memory_size, None, data.train_size, random_noise)
    test = MemoryDataset.from_stories(test_stories, vocab, memory_size, train.sentence_len, data.test_size,
                                      slots=train.slots)
    return train, test


# ---- prediction-time encoding ----------------------------------------------------------


def encode_memory(text, vocab, sentence_len, memory_size, unknown="error", slots=None, punctuation="keep"):
    """A story ending in a question as (a one-question ``MemoryBatch``, every statement's words).

    The question is the text's last sentence, which must end with ``?``;
    every sentence before it is a statement, and the batch holds the last
    ``slots`` of them (default: ``memory_size``), in as many slots as the
    model was trained with, the rest empty (its answer is a placeholder
    ``<pad>``). With ``punctuation="strip"`` the '.' and '?' are dropped, as
    they were from the training data.
    """
    story, question = split_question(tokenize(text))
    statements = _sentences(story)
    if not statements:
        raise DataError("the story has no statements before the question",
                        "Give the story, e.g. --story 'Mary went to the garden. Where is Mary?'")
    read = [_words(s) for s in statements] if punctuation == "strip" else statements
    question = _words(question) if punctuation == "strip" else question
    ids = [vocab.encode(s, unknown) for s in read[-(slots or memory_size):]]
    counts = np.array([len(ids)], dtype=ID_DTYPE)
    slots = slots or len(ids)
    batch = MemoryBatch(_ids(ids, slots, sentence_len)[None], _ids([vocab.encode(question, unknown)], 1,
                        sentence_len), true_times(counts, slots), np.arange(slots)[None] < counts[:, None],
                        np.zeros(1, dtype=ID_DTYPE))
    return batch, statements


def _words(tokens):
    return [w for w in tokens if w not in PUNCTUATION]


def _sentences(tokens):
    """Tokens split after every ``.``, ``!`` or ``?``: the statements of a story."""
    sentences, current = [], []
    for word in tokens:
        current.append(word)
        if word in _SENTENCE_END:
            sentences.append(current)
            current = []
    return sentences + ([current] if current else [])
