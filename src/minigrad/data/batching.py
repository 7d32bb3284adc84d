"""Turn stories into padded batches of word ids, one batch at a time.

There are three ways to learn from a task (the ``mode`` of a run):

``lm``
    Next-word prediction, the lesson's experiment. Every line of the file
    (statements, and questions without their answers) is one sequence; a
    batch is ``(inputs, targets)`` of shape (batch, time) with ``targets``
    the inputs shifted left by one. Rows are padded on the **right** with
    ``<pad>`` = 0, which the loss skips (``ignore_index=0``). A recurrent
    model reads left to right, so padding after the words never changes
    what it computes at a real word: the output after ``mary moved to the``
    is the same in a padded batch as for that context alone, and predicting
    the next word is simply "feed the context, read the last output".

``qa``
    Question answering. Each question becomes one example: the story's
    statements before it, joined and cut to the last ``story_len`` tokens,
    the question, and the answer's id. Stories and questions are padded on
    the **left**, so the last time step of every row is its last real word
    and an encoder can take its final state without a mask.

``memory``
    Question answering for memory networks: the statements before each
    question, one row of ids per statement; see ``minigrad.data.memory``.

Batches are produced lazily from lists of id sequences; the order is
shuffled with a ``numpy.random.Generator`` the caller owns, so one generator
seeded with the run's seed gives the same order every run and a new order
every epoch.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import DataError
from .babi import load_task, tokenize
from .vocab import PAD_ID, Vocabulary

ID_DTYPE = np.int64
_SENTENCE_END = {".", "!", "?"}


class LMBatch(NamedTuple):
    """Next-word batch: ``targets[:, t]`` is the word after ``inputs[:, t]``."""

    inputs: np.ndarray  # (batch, time) int
    targets: np.ndarray  # (batch, time) int, 0 where padded


class QABatch(NamedTuple):
    """Question-answering batch."""

    stories: np.ndarray  # (batch, story_len) int, left-padded
    questions: np.ndarray  # (batch, question_len) int, left-padded
    answers: np.ndarray  # (batch,) int


class QAExample(NamedTuple):
    """One question as ids: its story (the statements before it), itself, its answer."""

    story: list
    question: list
    answer: int


# ---- from stories to id sequences ------------------------------------------------------


def build_vocabulary(stories, mode):
    """The vocabulary of a task's training stories; in ``qa`` mode the answers are words too."""
    def token_lists():
        for story in stories:
            for line in story.lines():
                yield line.tokens
            if mode != "lm":  # qa and memory: the answers are words too
                yield [q.answer for q in story.questions]
    return Vocabulary.build(token_lists())


def lm_sequences(stories, vocab, max_len=None):
    """Each line's ids, in file order, cut to its first ``max_len`` tokens if given."""
    return [vocab.encode(line.tokens[:max_len]) for story in stories for line in story.lines()]


def qa_examples(stories, vocab, story_len=None, question_len=None):
    """One ``QAExample`` per question; stories and questions keep their *last* tokens."""
    examples = []
    for story in stories:
        for question in story.questions:
            context = [w for s in story.context(question) for w in s.tokens]
            examples.append(QAExample(vocab.encode(_last(context, story_len)),
                                      vocab.encode(_last(question.tokens, question_len)),
                                      vocab.encode([question.answer])[0]))
    return examples


def _last(tokens, n):
    """The last ``n`` tokens (all of them when ``n`` is None)."""
    return list(tokens) if n is None else list(tokens)[max(len(tokens) - n, 0):]


def pad(sequences, length=None, side="right"):
    """Stack id sequences into a (len(sequences), length) int array filled out with ``<pad>``.

    ``length`` defaults to the longest sequence; a longer one is an error
    (cut sequences before padding them).
    """
    length = max((len(s) for s in sequences), default=0) if length is None else length
    out = np.full((len(sequences), length), PAD_ID, dtype=ID_DTYPE)
    for row, seq in zip(out, sequences):
        if len(seq) > length:
            raise ValueError(f"a sequence of {len(seq)} ids does not fit in length {length}")
        if side == "right":
            row[:len(seq)] = seq
        elif len(seq):  # row[length - 0:] would be the whole row
            row[length - len(seq):] = seq
    return out


def _order(n, rng):
    """Indices 0..n-1, shuffled by ``rng`` when one is given."""
    return rng.permutation(n) if rng is not None else np.arange(n)


def _chunks(order, batch_size, drop_last):
    """Consecutive slices of ``order`` of ``batch_size`` (the last may be shorter unless dropped)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    stop = len(order) - len(order) % batch_size if drop_last else len(order)
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]


# ---- datasets ------------------------------------------------------------------------


class LMDataset:
    """Sentences as id sequences for next-word prediction (``mode: lm``)."""

    def __init__(self, sequences):
        # A one-word line has no next word to predict.
        self.sequences = [list(s) for s in sequences if len(s) >= 2]

    @classmethod
    def from_stories(cls, stories, vocab, max_len=None, limit=None):
        """The first ``limit`` lines of ``stories`` (all if None), each cut to ``max_len`` tokens."""
        return cls(lm_sequences(stories, vocab, max_len)[:limit])

    def __len__(self):
        return len(self.sequences)

    def subset(self, index):
        """The sentences at ``index`` (a slice), as a dataset of their own."""
        return LMDataset(self.sequences[index])

    lengths = ()  # each batch is as long as its longest sentence: nothing to pad to

    @classmethod
    def join(cls, parts, lengths=None):
        """The sentences of ``parts``, in order, as one dataset."""
        return cls([s for part in parts for s in part.sequences])

    def batches(self, batch_size, rng=None, drop_last=False):
        """Yield ``LMBatch`` es of up to ``batch_size`` sentences, shuffled by ``rng`` if given.

        Each batch is as long as its longest sentence minus one (the last
        word is only a target, the first only an input).
        """
        for index in _chunks(_order(len(self), rng), batch_size, drop_last):
            chosen = [self.sequences[i] for i in index]
            # Pad inputs and targets separately, so a row's last word is never an input.
            yield LMBatch(pad([s[:-1] for s in chosen]), pad([s[1:] for s in chosen]))


class QADataset:
    """Questions with their stories for answering (``mode: qa``).

    Every batch has the same shapes: stories (batch, ``story_len``) and
    questions (batch, ``question_len``).
    """

    def __init__(self, examples, story_len, question_len):
        self.examples = list(examples)
        self.story_len, self.question_len = story_len, question_len

    @classmethod
    def from_stories(cls, stories, vocab, story_len=None, question_len=None, limit=None):
        """The first ``limit`` questions of ``stories``.

        ``story_len`` / ``question_len`` default to the longest in this data;
        build a test set with the training set's lengths.
        """
        examples = qa_examples(stories, vocab, story_len, question_len)[:limit]
        story_len = story_len or max((len(e.story) for e in examples), default=1)
        question_len = question_len or max((len(e.question) for e in examples), default=1)
        return cls(examples, story_len, question_len)

    def __len__(self):
        return len(self.examples)

    def subset(self, index):
        """The questions at ``index`` (a slice), as a dataset of their own."""
        return QADataset(self.examples[index], self.story_len, self.question_len)

    lengths = property(lambda self: (self.story_len, self.question_len))

    @classmethod
    def join(cls, parts, lengths=None):
        """The questions of ``parts``, in order, as one dataset padded to ``lengths`` (default: the longest)."""
        story_len, question_len = lengths or [max(sizes) for sizes in zip(*(p.lengths for p in parts))]
        return cls([e for part in parts for e in part.examples], story_len, question_len)

    def batches(self, batch_size, rng=None, drop_last=False):
        """Yield ``QABatch`` es of up to ``batch_size`` questions, shuffled by ``rng`` if given."""
        for index in _chunks(_order(len(self), rng), batch_size, drop_last):
            chosen = [self.examples[i] for i in index]
            yield QABatch(pad([e.story for e in chosen], self.story_len, side="left"),
                          pad([e.question for e in chosen], self.question_len, side="left"),
                          np.array([e.answer for e in chosen], dtype=ID_DTYPE))


@dataclass
class Datasets:
    """A task's splits and vocabulary; ``train, test, vocab = datasets`` unpacks the three main parts."""

    train: object  # LMDataset, QADataset or MemoryDataset
    test: object
    vocab: Vocabulary
    valid: object = None  # the held-out end of the training data (data.valid_fraction), or None
    tasks: list = None  # several tasks (minigrad.data.joint): each one's TaskSplits, else None

    def __iter__(self):
        return iter((self.train, self.test, self.vocab))


def hold_out(dataset, fraction):
    """(the start of ``dataset``, its last ``fraction`` as a validation set); (dataset, None) for 0."""
    if not fraction:
        return dataset, None
    held = max(1, round(len(dataset) * fraction))
    if held >= len(dataset):
        raise DataError(f"data.valid_fraction: holding out {fraction} of {len(dataset)} training examples "
                        "leaves none to train on", "Lower data.valid_fraction or use more training data.")
    cut = len(dataset) - held
    return dataset.subset(slice(0, cut)), dataset.subset(slice(cut, None))


def build_datasets(data, memory_size=50, random_noise=0.0):
    """Load a task (or several: ``minigrad.data.joint``) and build the vocabulary and the splits.

    Args:
        data: the ``data`` section of a run config (anything with ``task``,
            ``mode``, ``train_size``, ``test_size``, ``max_len``,
            ``max_story_len`` and ``max_question_len`` attributes, and
            optionally ``valid_fraction``).
        memory_size, random_noise: mode memory only: the most statements a
            question keeps, and the noise added to training batches' ages
            (see ``minigrad.data.memory``).
    Returns:
        ``Datasets(train, test, vocab, valid)``; the vocabulary comes from the
        training split only, so unseen test words become ``<unk>``.
    """
    from .joint import joint_datasets, task_list  # joint.py builds on this module

    if task_list(data.task) is not None:  # several tasks, one model: see minigrad.data.joint
        return joint_datasets(data, memory_size, random_noise)
    train_stories, test_stories = (load_task(data.task, split, punctuation(data)) for split in ("train", "test"))
    vocab = build_vocabulary(train_stories, data.mode)
    train, test = task_datasets(data, train_stories, test_stories, vocab, memory_size, random_noise)
    train, valid = hold_out(train, getattr(data, "valid_fraction", 0.0))
    return Datasets(train, test, vocab, valid)


def punctuation(data):
    """``strip`` or ``keep``: the run file's ``data.punctuation``, or its mode's default when unset.

    Memory networks strip the sentence-ending marks, as the authors' code
    does: kept, they are one more word in every statement, which the position
    encoding weighs; a language model predicts them, so lm keeps them, and so
    does qa, whose models were tuned with them.
    """
    chosen = getattr(data, "punctuation", None)
    return chosen or ("strip" if data.mode == "memory" else "keep")


def task_datasets(data, train_stories, test_stories, vocab, memory_size=50, random_noise=0.0):
    """One task's (train, test) sets in the run's mode; the test set takes the training set's lengths."""
    if data.mode == "memory":
        from .memory import memory_datasets  # memory.py builds on this module's helpers

        return memory_datasets(data, train_stories, test_stories, vocab, memory_size, random_noise)
    if data.mode == "lm":
        return (LMDataset.from_stories(train_stories, vocab, data.max_len, data.train_size),
                LMDataset.from_stories(test_stories, vocab, data.max_len, data.test_size))
    train = QADataset.from_stories(train_stories, vocab, data.max_story_len, data.max_question_len, data.train_size)
    return train, QADataset.from_stories(test_stories, vocab, train.story_len, train.question_len, data.test_size)


# ---- prediction-time encoding ----------------------------------------------------------


def encode_context(text, vocab, unknown="error"):
    """A context such as ``"Mary moved to the"`` as a (1, time) id array for an ``lm`` model."""
    tokens = tokenize(text)
    if not tokens:
        raise DataError("the context has no words", "Give a few words, e.g. 'mary moved to the'.")
    return np.array([vocab.encode(tokens, unknown)], dtype=ID_DTYPE)


def encode_qa(text, vocab, story_len, question_len, unknown="error"):
    """A story ending in a question as ``(story (1, story_len), question (1, question_len))``.

    The question is the text's last sentence, which must end with ``?``:
    ``"Mary went to the garden. Where is Mary?"``.
    """
    story, question = split_question(tokenize(text))
    return (pad([vocab.encode(_last(story, story_len), unknown)], story_len, side="left"),
            pad([vocab.encode(_last(question, question_len), unknown)], question_len, side="left"))


def split_question(tokens):
    """Split tokens into (story, question) where the question is the final sentence ending in ``?``."""
    if not tokens or tokens[-1] != "?":
        raise DataError("the text does not end with a question",
                        "End it with a question, e.g. 'Mary went to the garden. Where is Mary?'")
    start = max((i + 1 for i, w in enumerate(tokens[:-1]) if w in _SENTENCE_END), default=0)
    return tokens[:start], tokens[start:]
