"""Padded batches for next-word prediction (lm) and question answering (qa)."""

from types import SimpleNamespace

import numpy as np
import pytest

from minigrad.data import (PAD_ID, UNK_ID, LMDataset, QADataset, build_datasets, build_vocabulary,
                           encode_context, encode_qa, load_task, pad)
from minigrad.data.batching import batch_indices
from minigrad.errors import DataError, VocabularyError


@pytest.fixture(scope="module")
def stories():
    return load_task(1, "train")


@pytest.fixture(scope="module")
def lm_vocab(stories):
    return build_vocabulary(stories, "lm")


@pytest.fixture(scope="module")
def qa_vocab(stories):
    return build_vocabulary(stories, "qa")


def rows(array):
    """Each row without its padding, as a list."""
    return [[int(i) for i in row if i != PAD_ID] for row in array]


def test_pad_left_and_right():
    right = pad([[1, 2, 3], [4]], side="right")
    left = pad([[1, 2, 3], [4], []], length=4, side="left")
    assert right.tolist() == [[1, 2, 3], [4, 0, 0]]
    assert left.tolist() == [[0, 1, 2, 3], [0, 0, 0, 4], [0, 0, 0, 0]]
    with pytest.raises(ValueError):
        pad([[1, 2, 3]], length=2)


# ---- lm ------------------------------------------------------------------------------


def test_lm_uses_every_line_in_file_order(stories, lm_vocab):
    data = LMDataset.from_stories(stories, lm_vocab)
    assert len(data) == 3000  # 2000 statements + 1000 questions
    assert lm_vocab.decode(data.sequences[0]) == ["mary", "moved", "to", "the", "bathroom", "."]
    assert lm_vocab.decode(data.sequences[2]) == ["where", "is", "mary", "?"]


def test_lm_batches_shift_targets_by_one(stories, lm_vocab):
    data = LMDataset.from_stories(stories, lm_vocab)
    inputs, targets = next(data.batches(5))
    assert inputs.shape == targets.shape == (5, 6)  # longest of the 5 lines has 7 tokens
    assert inputs.dtype.kind == "i"
    for seq, x, y in zip(data.sequences[:5], rows(inputs), rows(targets)):
        assert x == seq[:-1] and y == seq[1:]


def test_lm_pads_on_the_right(stories, lm_vocab):
    inputs, targets = next(LMDataset.from_stories(stories, lm_vocab).batches(3))
    # The question line is shorter: its padding comes after its words.
    assert inputs[2].tolist() == lm_vocab.encode(["where", "is", "mary"]) + [0, 0]
    assert targets[2].tolist() == lm_vocab.encode(["is", "mary", "?"]) + [0, 0]


def test_lm_max_len_and_limit(stories, lm_vocab):
    data = LMDataset.from_stories(stories, lm_vocab, max_len=4, limit=250)
    assert len(data) == 250
    assert max(len(s) for s in data.sequences) == 4
    batches = list(data.batches(100))
    assert [b.inputs.shape for b in batches] == [(100, 3), (100, 3), (50, 3)]
    assert len(list(data.batches(100, drop_last=True))) == 2


def test_lm_shuffle_covers_every_line_once(stories, lm_vocab):
    data = LMDataset.from_stories(stories, lm_vocab, limit=300)
    seen = [tuple(x + y[-1:]) for b in data.batches(64, np.random.default_rng(0))
            for x, y in zip(rows(b.inputs), rows(b.targets))]
    assert sorted(seen) == sorted(tuple(s) for s in data.sequences)
    assert seen != [tuple(s) for s in data.sequences]


def test_same_seed_same_order_new_epoch_new_order(stories, lm_vocab):
    data = LMDataset.from_stories(stories, lm_vocab)
    def epoch(rng):
        return np.concatenate([b.inputs[:, 0] for b in data.batches(100, rng)])
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    first_a, first_b = epoch(a), epoch(b)
    assert np.array_equal(first_a, first_b)
    assert not np.array_equal(first_a, epoch(a))


def test_batches_drawn_with_replacement_are_full_and_uniform():
    """sampling: replacement gives n // size full batches of random draws; without rng, file order."""
    draws = [batch_indices(100, 32, np.random.default_rng(seed), replacement=True) for seed in range(300)]
    batches = [b for epoch in draws for b in epoch]
    assert len(batches) == 300 * 3 and {len(b) for b in batches} == {32}
    counts = np.bincount(np.concatenate(batches), minlength=100)
    assert counts.min() > 0.75 * counts.mean() and counts.max() < 1.25 * counts.mean()  # uniform
    one_epoch = np.concatenate(list(batch_indices(100, 32, np.random.default_rng(0), replacement=True)))
    assert len(set(one_epoch.tolist())) < 96  # repeats and misses, unlike a shuffle's 96 distinct
    assert [len(b) for b in batch_indices(20, 32, np.random.default_rng(0), replacement=True)] == [32]
    in_order = np.concatenate(list(batch_indices(100, 32, None, replacement=True)))
    assert in_order.tolist() == list(range(100))  # evaluation: every example once, in order


# ---- qa ------------------------------------------------------------------------------


def test_qa_examples_hold_story_question_answer(stories, qa_vocab):
    data = QADataset.from_stories(stories, qa_vocab)
    assert len(data) == 1000
    first = data.examples[0]
    assert qa_vocab.decode(first.story) == "mary moved to the bathroom . john went to the hallway .".split()
    assert qa_vocab.decode(first.question) == ["where", "is", "mary", "?"]
    assert qa_vocab.decode([first.answer]) == ["bathroom"]
    assert data.story_len == max(len(e.story) for e in data.examples) == 66
    assert data.question_len == 4


def test_qa_batches_are_left_padded(stories, qa_vocab):
    data = QADataset.from_stories(stories, qa_vocab)
    story, question, answer = next(data.batches(8))
    assert story.shape == (8, 66) and question.shape == (8, 4) and answer.shape == (8,)
    assert rows(story)[0] == data.examples[0].story
    assert story[0, -1] == qa_vocab.index["."] and story[0, 0] == PAD_ID
    assert answer.tolist() == [e.answer for e in data.examples[:8]]


def test_qa_answers_are_words_in_the_vocabulary(stories, qa_vocab):
    data = QADataset.from_stories(stories, qa_vocab)
    answers = np.concatenate([b.answers for b in data.batches(32, np.random.default_rng(0))])
    assert len(answers) == 1000
    assert set(qa_vocab.decode(answers)) == {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"}
    assert UNK_ID not in answers and PAD_ID not in answers


def test_qa_story_keeps_its_last_tokens(stories, qa_vocab):
    data = QADataset.from_stories(stories, qa_vocab, story_len=10, limit=50)
    full = QADataset.from_stories(stories, qa_vocab, limit=50)
    assert len(data) == 50 and data.story_len == 10
    for short, long in zip(data.examples, full.examples):
        assert short.story == long.story[-10:]


def test_build_datasets_gives_test_the_training_lengths():
    config = SimpleNamespace(task=1, mode="qa", train_size=100, test_size=40, max_len=None,
                             max_story_len=None, max_question_len=None)
    train, test, vocab = build_datasets(config)
    assert (len(train), len(test)) == (100, 40)
    assert (test.story_len, test.question_len) == (train.story_len, train.question_len)
    assert "apple" not in vocab and "bathroom" in vocab
    lm = build_datasets(SimpleNamespace(**{**vars(config), "mode": "lm"}))
    assert (len(lm.train), len(lm.test)) == (100, 40) and isinstance(lm.train, LMDataset)


# ---- prediction-time encoding ------------------------------------------------------------


def test_encode_context(lm_vocab):
    ids = encode_context("Mary moved to the", lm_vocab)
    assert ids.shape == (1, 4)
    assert lm_vocab.decode(ids[0]) == ["mary", "moved", "to", "the"]
    with pytest.raises(VocabularyError, match="marry"):
        encode_context("Marry moved", lm_vocab)
    with pytest.raises(DataError):
        encode_context(" ", lm_vocab)


def test_encode_qa_splits_off_the_question(qa_vocab):
    story, question = encode_qa("Mary went to the garden. John moved to the office. Where is Mary?",
                                qa_vocab, story_len=20, question_len=5)
    assert story.shape == (1, 20) and question.shape == (1, 5)
    assert qa_vocab.decode(question[0]) == ["where", "is", "mary", "?"]
    assert qa_vocab.decode(story[0])[-3:] == ["the", "office", "."]
    assert question[0, 0] == PAD_ID
    with pytest.raises(DataError, match="question"):
        encode_qa("Mary went to the garden.", qa_vocab, 20, 5)
