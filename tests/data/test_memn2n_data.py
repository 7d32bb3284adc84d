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
    """The authors' noise: n of n + randint(0, ceil(0.1 n)) places, ages capped at the last slot's."""
    long_story = "".join(f"{i} Mary moved to the garden.\n" for i in range(1, 21)) + "21 Where is Mary?\tgarden\t20\n"
    short_story = "".join(f"{i} Mary moved to the garden.\n" for i in range(1, 11)) + "11 Where is Mary?\tgarden\t10\n"
    data = MemoryDataset.from_stories(parse_stories((long_story + short_story).splitlines()), vocab,
                                      memory_size=50, random_noise=0.1)
    assert data.slots == 20  # the longest story, not memory_size
    assert next(data.batches(2)).times.tolist() == [list(range(19, -1, -1)), list(range(9, -1, -1)) + [0] * 10]
    rng = np.random.default_rng(0)
    draws = [(ages, real) for _ in range(300) for ages, real in zip(*next(data.batches(2, rng))[2:4])]
    full = [ages for ages, real in draws if real.all()]
    short = [ages[:10] for ages, real in draws if real.sum() == 10]
    assert len(full) + len(short) == 600 and len(full) > 200
    for ages in full:
        assert (np.diff(ages) <= 0).all() and ages[0] <= 19  # order kept; capped at the last slot's age
        assert (np.diff(ages[ages < 19]) < 0).all()  # below the cap, every statement its own age
    # A full memory gets its noise too: up to ceil(0.1 * 20) = 2 blanks, so the oldest may share age 19.
    assert {int((ages == 19).sum()) for ages in full} == {1, 2, 3}
    assert any((np.diff(ages) == -2).any() for ages in full)  # a gap among the ages
    gaps = {int(ages[0]) - 9 for ages in short}  # a short story: up to ceil(0.1 * 10) = 1 blank
    assert gaps == {0, 1} and all((np.diff(ages) < 0).all() for ages in short)


def test_random_noise_on_a_batch_of_different_story_lengths(stories, vocab):
    data = MemoryDataset.from_stories(stories, vocab, memory_size=6, random_noise=0.5)
    rng = np.random.default_rng(1)
    for _ in range(50):
        batch = next(data.batches(3, rng))
        for ages, real in zip(batch.times, batch.mask):
            n = int(real.sum())
            assert (np.diff(ages[:n]) <= 0).all() and (ages[n:] == 0).all()
            assert ages[:n].max() <= n - 1 + np.ceil(0.5 * n) and ages.max() < data.slots


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


def test_encode_memory_pads_to_the_trained_slots_and_strips_like_training(vocab):
    text = "Mary moved to the bathroom. John went to the hallway. Where is Mary?"
    batch, statements = encode_memory(text, vocab, sentence_len=6, memory_size=50, slots=4, punctuation="strip")
    assert [" ".join(s) for s in statements] == ["mary moved to the bathroom .", "john went to the hallway ."]
    assert batch.memories.shape == (1, 4, 6) and batch.mask.tolist() == [[True, True, False, False]]
    assert words(vocab, batch.memories[0, 0]) == "mary moved to the bathroom"  # no '.'
    assert words(vocab, batch.questions[0]) == "where is mary"
    assert (batch.memories[0, 2:] == PAD_ID).all() and batch.times.tolist() == [[1, 0, 0, 0]]


def test_every_split_has_the_training_sets_slots(tmp_path):
    """The authors' fixed memory: as many (empty) slots at test time as in training."""
    long_test = STORY.replace("2 Where is Sandra?\toffice\t1", "2 Sandra went to the office.\n"
                              "3 Mary went to the office.\n4 Where is Sandra?\toffice\t1")
    short_test = "1 Mary moved to the bathroom.\n2 Where is Mary?\tbathroom\t1\n"
    for test_text, held in ((short_test, 1), (long_test, 4)):
        (tmp_path / "toy_train.txt").write_text(STORY)
        (tmp_path / "toy_test.txt").write_text(test_text)
        train, test, _ = build_datasets(_data(str(tmp_path / "toy_train.txt")), memory_size=50)
        assert train.slots == test.slots == 4
        assert next(test.batches(3)).mask.sum(axis=1).max() == held  # a longer story keeps its last 4


@pytest.mark.parametrize("choice, stripped", [(None, True), ("strip", True), ("keep", False)])
def test_mode_memory_strips_the_sentence_marks_by_default(tmp_path, choice, stripped):
    """The authors' code drops '.' and '?': kept, they would be one more word for the position encoding."""
    train, test, vocab = build_datasets(_data(_task_files(tmp_path), punctuation=choice))
    assert ("." in vocab.words, "?" in vocab.words) == (not stripped, not stripped)
    assert train.sentence_len == (6 if stripped else 7)  # "daniel went back to the hallway"
    assert words(vocab, next(test.batches(1)).questions[0]) == "where is mary" + ("" if stripped else " ?")


def test_the_other_modes_keep_the_marks_unless_told(tmp_path):
    task = _task_files(tmp_path)
    lm = build_datasets(_data(task, mode="lm", max_len=None))
    assert "." in lm.vocab.words
    stripped = build_datasets(_data(task, mode="lm", max_len=None, punctuation="strip"))
    assert "." not in stripped.vocab.words and "?" not in stripped.vocab.words
