"""Question answering (``mode: qa``) for the recurrent models.

Each question becomes one example: the story's statements before it, joined
and cut to the last ``story_len`` tokens, the question, and the answer's id.
Stories and questions are padded on the **left**, so the last time step of
every row is its last real word and an encoder can take its final state
without a mask.
"""

from typing import NamedTuple

import numpy as np

from .babi import tokenize
from .batching import ID_DTYPE, _last, batch_indices, pad, split_question


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

    def batches(self, batch_size, rng=None, drop_last=False, replacement=False):
        """Yield ``QABatch`` es of up to ``batch_size`` questions, drawn as ``batch_indices`` says."""
        for index in batch_indices(len(self), batch_size, rng, drop_last, replacement):
            chosen = [self.examples[i] for i in index]
            yield QABatch(pad([e.story for e in chosen], self.story_len, side="left"),
                          pad([e.question for e in chosen], self.question_len, side="left"),
                          np.array([e.answer for e in chosen], dtype=ID_DTYPE))


# ---- prediction-time encoding ----------------------------------------------------------


def encode_qa(text, vocab, story_len, question_len, unknown="error"):
    """A story ending in a question as ``(story (1, story_len), question (1, question_len))``.

    The question is the text's last sentence, which must end with ``?``:
    ``"Mary went to the garden. Where is Mary?"``.
    """
    story, question = split_question(tokenize(text))
    return (pad([vocab.encode(_last(story, story_len), unknown)], story_len, side="left"),
            pad([vocab.encode(_last(question, question_len), unknown)], question_len, side="left"))
