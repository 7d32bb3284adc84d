"""Stories as memories (mode: memory): slots, ages, masks, random noise, the validation split."""

from types import SimpleNamespace

import numpy as np
import pytest

from minigrad.data import (PAD_ID, MemoryDataset, build_datasets, build_vocabulary, encode_memory,
                           parse_stories)
from minigrad.data.memory import true_times
from minigrad.errors import DataError

STORY = """\
1 Mary moved to the bathroom.
2 John went to the hallway.
3 Where is Mary?\tbathroom\t1
4 Daniel went back to the hallway.
5 Sandra moved to the garden.
6 Where is Daniel?\thallway\t4
1 Sandra went to the office.
2 Where is Sandra?\toffice\t1
"""


@pytest.fixture
def stories():
    return parse_stories(STORY.splitlines())


@pytest.fixture
def vocab(stories):
    return build_vocabulary(stories, "memory")


def words(vocab, ids):
    return " ".join(vocab.decode(ids))


def test_memories_are_the_statements_before_each_question(stories, vocab):
    data = MemoryDataset.from_stories(stories, vocab, memory_size=50)
    assert len(data) == 3
    assert data.sentence_len == 7  # "daniel went back to the hallway ." is the longest line
    assert data.slots == 4  # the second question has four statements before it
    batch = next(data.batches(3))
    assert batch.memories.shape == (3, 4, 7) and batch.questions.shape == (3, 7)
    assert [words(vocab, m) for m in batch.memories[1]] == [
        "mary moved to the bathroom .", "john went to the hallway .",
        "daniel went back to the hallway .", "sandra moved to the garden ."]
    assert [words(vocab, m) for m in batch.memories[0]] == [
        "mary moved to the bathroom .", "john went to the hallway .", "", ""]
    assert words(vocab, batch.questions[2]) == "where is sandra ?"
    assert vocab.decode(batch.answers) == ["bathroom", "hallway", "office"]
    assert batch.memories[0, 0].tolist() == vocab.encode("mary moved to the bathroom .".split()) + [PAD_ID]


def test_ages_count_back_from_the_latest_statement_and_the_mask_marks_real_slots(stories, vocab):
    batch = next(MemoryDataset.from_stories(stories, vocab).batches(3))
    assert batch.times.tolist() == [[1, 0, 0, 0], [3, 2, 1, 0], [0, 0, 0, 0]]
    assert batch.mask.tolist() == [[True, True, False, False], [True, True, True, True],
                                   [True, False, False, False]]


def test_memory_keeps_only_the_last_memory_size_statements(stories, vocab):
    data = MemoryDataset.from_stories(stories, vocab, memory_size=3)
    batch = next(data.batches(3))
    assert data.slots == 3
    assert [words(vocab, m) for m in batch.memories[1]] == [
        "john went to the hallway .", "daniel went back to the hallway .", "sandra moved to the garden ."]
    assert batch.times[1].tolist() == [2, 1, 0]


def test_a_test_set_takes_the_training_sentence_length_and_cuts_longer_lines(stories, vocab):
    data = MemoryDataset.from_stories(stories, vocab, sentence_len=4)
    batch = next(data.batches(3))
    assert batch.memories.shape[2] == 4
    assert words(vocab, batch.memories[1, 2]) == "daniel went back to"


def test_true_times():
    assert true_times(np.array([3, 1, 0]), 4).tolist() == [[2, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]


def test_random_noise_slips_gaps_into_training_ages_only(vocab):
    long_story = "".join(f"{i} Mary moved to the garden.\n" for i in range(1, 21)) + "21 Where is Mary?\tgarden\t20\n"
    data = MemoryDataset.from_stories(parse_stories(long_story.splitlines()), vocab, memory_size=22,
                                      random_noise=0.1)
    assert next(data.batches(1)).times.tolist() == [list(range(19, -1, -1))]  # no rng: evaluation, true ages
    rng = np.random.default_rng(0)
    draws = [next(data.batches(1, rng)).times[0] for _ in range(200)]
    for ages in draws:
        assert (np.diff(ages) < 0).all()  # the order of the statements is kept
        assert ages[-1] >= 0 and ages[0] <= 21  # within the age table (memory_size 22)
    gaps = [int(ages[0]) - 19 for ages in draws]  # how many empty places went in
    assert set(gaps) == {0, 1, 2}  # up to ceil(0.1 * 20) = 2, each count drawn
    assert MemoryDataset.from_stories(parse_stories(long_story.splitlines()), vocab, memory_size=20,
                                      random_noise=0.1)._noisy_times(np.array([20]), rng).tolist() == \
        [list(range(19, -1, -1))]  # a full memory has no room for gaps


def test_random_noise_on_a_batch_of_different_story_lengths(stories, vocab):
    data = MemoryDataset.from_stories(stories, vocab, memory_size=6, random_noise=0.5)
    rng = np.random.default_rng(1)
    for _ in range(50):
        batch = next(data.batches(3, rng))
        for ages, real in zip(batch.times, batch.mask):
            n = int(real.sum())
            assert (np.diff(ages[:n]) < 0).all() and (ages[n:] == 0).all()
            assert ages[:n].max() <= n - 1 + np.ceil(0.5 * n) and ages.max() < 6


def _task_files(tmp_path, text=STORY):
    (tmp_path / "toy_train.txt").write_text(text)
    (tmp_path / "toy_test.txt").write_text(text)
    return str(tmp_path / "toy_train.txt")


def _data(task, **fields):
    values = dict(task=task, mode="memory", train_size=None, test_size=None, valid_fraction=0.0)
    return SimpleNamespace(**{**values, **fields})


def test_valid_split_is_the_last_part_of_the_training_questions(tmp_path):
    task = _task_files(tmp_path)
    datasets = build_datasets(_data(task, valid_fraction=0.3), memory_size=50, random_noise=0.1)
    train, test, vocab = datasets  # unpacks as before the validation split existed
    assert (len(train), len(datasets.valid), len(test)) == (2, 1, 3)
    assert vocab.decode(train.answers) == ["bathroom", "hallway"]
    assert vocab.decode(datasets.valid.answers) == ["office"]
    assert datasets.valid.sentence_len == train.sentence_len == test.sentence_len
    assert train.random_noise == 0.1 and test.random_noise == 0.0


def test_valid_split_in_the_other_modes_too(tmp_path):
    task = _task_files(tmp_path)
    qa = build_datasets(_data(task, mode="qa", valid_fraction=0.3, max_story_len=None, max_question_len=None))
    assert (len(qa.train), len(qa.valid)) == (2, 1)
    assert qa.vocab.decode([qa.valid.examples[0].answer]) == ["office"]
    no_valid = build_datasets(_data(task, mode="lm", max_len=None))
    assert no_valid.valid is None and len(no_valid.train) == 8


def test_valid_split_that_leaves_nothing_to_train_on_is_an_error(tmp_path):
    with pytest.raises(DataError, match="data.valid_fraction"):
        build_datasets(_data(_task_files(tmp_path), valid_fraction=0.9))


def test_encode_memory_for_prediction(vocab):
    batch, statements = encode_memory("Mary moved to the bathroom. John went to the hallway. Where is Mary?",
                                      vocab, sentence_len=7, memory_size=50)
    assert [" ".join(s) for s in statements] == ["mary moved to the bathroom .", "john went to the hallway ."]
    assert batch.memories.shape == (1, 2, 7) and batch.times.tolist() == [[1, 0]]
    assert batch.mask.tolist() == [[True, True]]
    assert words(vocab, batch.questions[0]) == "where is mary ?"
    batch, statements = encode_memory("Mary moved to the bathroom. John went to the hallway. Where is Mary?",
                                      vocab, sentence_len=7, memory_size=1)
    assert len(statements) == 2 and batch.memories.shape == (1, 1, 7)  # the batch keeps the latest only
    assert words(vocab, batch.memories[0, 0]) == "john went to the hallway ."
    with pytest.raises(DataError, match="no statements"):
        encode_memory("Where is Mary?", vocab, 7, 50)
