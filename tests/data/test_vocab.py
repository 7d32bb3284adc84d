"""The word <-> id mapping."""

import json

import pytest

from minigrad.data import PAD_ID, UNK_ID, Vocabulary, build_vocabulary, load_task
from minigrad.errors import CheckpointError, VocabularyError


@pytest.fixture(scope="module")
def vocab():
    return build_vocabulary(load_task(1, "train"), "lm")


def test_special_words_come_first():
    v = Vocabulary(["the", "a", "the"])
    assert v.words == ["<pad>", "<unk>", "a", "the"]
    assert (PAD_ID, UNK_ID) == (0, 1)
    assert len(v) == 4 and "the" in v and "cat" not in v


def test_ids_do_not_depend_on_order():
    assert Vocabulary.build([["b", "a"], ["c"]]) == Vocabulary.build([["c", "a", "b"]])


def test_qa1_vocabulary(vocab):
    assert len(vocab) == 23
    assert vocab.encode(["mary", "moved", "."]) == [14, 15, 2]
    assert vocab.decode([14, 15, 2, 0, 0]) == ["mary", "moved", "."]
    assert vocab.decode([14, 0], skip_pad=False) == ["mary", "<pad>"]


def test_unseen_word_becomes_unk(vocab):
    qa2_words = {w for s in load_task(2, "test") for line in s.lines() for w in line.tokens}
    unseen = sorted(qa2_words - set(vocab.words))
    assert "football" in unseen
    assert vocab.encode(unseen) == [UNK_ID] * len(unseen)


def test_error_mode_suggests_close_words(vocab):
    with pytest.raises(VocabularyError) as info:
        vocab.encode(["marry", "went"], unknown="error")
    assert "'marry'" in info.value.message
    assert "'mary'" in info.value.hint


def test_save_load_round_trip(tmp_path, vocab):
    path = tmp_path / "vocab.json"
    vocab.save(path)
    loaded = Vocabulary.load(path)
    assert loaded == vocab
    assert loaded.encode(["sandra", "?"]) == vocab.encode(["sandra", "?"])


def test_load_keeps_saved_numbering(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({"format": "minigrad-vocabulary", "words": ["<pad>", "<unk>", "z", "a"]}))
    assert Vocabulary.load(path).encode(["z", "a"]) == [2, 3]


@pytest.mark.parametrize("text", [
    "{not json",
    '{"words": ["<pad>", "<unk>"]}',
    '{"format": "minigrad-vocabulary", "words": ["a", "b"]}',
    '{"format": "minigrad-vocabulary", "words": ["<pad>", "<unk>", "a", "a"]}',
    "[1, 2]",
])
def test_corrupt_file_is_a_checkpoint_error(tmp_path, text):
    path = tmp_path / "vocab.json"
    path.write_text(text)
    with pytest.raises(CheckpointError) as info:
        Vocabulary.load(path)
    assert str(path) in info.value.message


def test_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        Vocabulary.load(tmp_path / "nope.json")
