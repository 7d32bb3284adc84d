"""One task's sets in a run's mode, and what every run's data has: ``Datasets``.

``task_datasets`` reads one task's stories as ``lm``, ``qa`` or ``memory``
data; ``hold_out`` cuts a validation split from the end of the training set.
``minigrad.data.joint`` builds several tasks' sets from these.
"""

from dataclasses import dataclass

from ..errors import DataError
from .lm import LMDataset
from .memory import memory_datasets
from .qa import QADataset
from .vocab import Vocabulary


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


def build_vocabulary(stories, mode):
    """The vocabulary of a task's training stories; in ``qa`` mode the answers are words too."""
    def token_lists():
        for story in stories:
            for line in story.lines():
                yield line.tokens
            if mode != "lm":  # qa and memory: the answers are words too
                yield [q.answer for q in story.questions]
    return Vocabulary.build(token_lists())


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
        return memory_datasets(data, train_stories, test_stories, vocab, memory_size, random_noise)
    if data.mode == "lm":
        return (LMDataset.from_stories(train_stories, vocab, data.max_len, data.train_size),
                LMDataset.from_stories(test_stories, vocab, data.max_len, data.test_size))
    train = QADataset.from_stories(train_stories, vocab, data.max_story_len, data.max_question_len, data.train_size)
    return train, QADataset.from_stories(test_stories, vocab, train.story_len, train.question_len, data.test_size)
