"""Prediction from a saved run, through ``Predictor`` and ``minigrad predict``."""

import json
import re

import numpy as np
import pytest

from conftest import invoke, one_line
from minigrad.tool import training
from minigrad.tool.config import load_config
from minigrad.data import PAD, UNK, encode_context
from minigrad.errors import CheckpointError, ConfigError, VocabularyError
from minigrad.tool.predict import Predictor
from minigrad.tool.session import start_session

LOCATIONS = {"bathroom", "bedroom", "garden", "hallway", "kitchen", "office"}
ROW = re.compile(r"│\s*(\d+)\s*│\s*(\S+)\s*│\s*([0-9.]+)\s*│")


def table_rows(output):
    """(rank, word, probability) of each row of a printed candidates table."""
    return [(int(r), w, float(p)) for r, w, p in ROW.findall(output)]


# ---- Predictor ---------------------------------------------------------------------------


def test_loaded_model_gives_the_trained_model_scores(tmp_path, make_config):
    """Weights survive the trip to disk: the loaded model computes what the trained one did."""
    session = start_session(load_config(make_config()))
    training.train(session)
    predictor = Predictor.load(session.run_dir)
    ids = encode_context("mary moved to the", predictor.vocab)
    session.model.eval()
    np.testing.assert_array_equal(predictor.model(ids).data, session.model(ids).data)
    assert predictor.vocab == session.datasets.vocab and predictor.mode == "lm"


def test_next_word_is_a_ranked_distribution(lm_run):
    predictor = Predictor.load(lm_run)
    pairs = predictor.next_word("Mary moved to the", top_k=50)
    words, probs = [w for w, _ in pairs], np.array([p for _, p in pairs])
    assert len(pairs) == len(predictor.vocab) - 2  # every word but <pad> and <unk>
    assert PAD not in words and UNK not in words
    assert np.all(np.diff(probs) <= 0) and probs.sum() == pytest.approx(1.0)
    assert predictor.next_word("mary moved to the", top_k=3) == pairs[:3]  # case does not matter


def test_answer_is_a_word_of_the_vocabulary(qa_run):
    predictor = Predictor.load(qa_run)
    pairs = predictor.answer("Mary went to the garden. John moved to the office.", "Where is Mary?", top_k=4)
    assert len(pairs) == 4 and all(w in predictor.vocab for w, _ in pairs)
    assert 0 < pairs[0][1] <= 1 and pairs[0][1] >= pairs[-1][1]


def test_unknown_word_names_close_ones(lm_run):
    with pytest.raises(VocabularyError) as caught:
        Predictor.load(lm_run).next_word("marry moved to the")
    assert caught.value.message == "unknown word 'marry'"
    assert "'mary'" in caught.value.hint


def test_an_unknown_word_lists_a_small_vocabulary_whole_and_counts_a_large_one():
    from minigrad.data import Vocabulary

    small = Vocabulary(["mary", "went", "to", "the", "garden"])
    with pytest.raises(VocabularyError) as caught:
        small.encode(["mary", "walked"], unknown="error")
    assert caught.value.message == "unknown word 'walked': the model never saw it in training"
    assert caught.value.hint.startswith("Nearest known words: 'went'.")
    assert caught.value.hint.endswith("learned from its training data: garden, mary, the, to, went.")
    large = Vocabulary([f"word{i:02d}" for i in range(60)])
    with pytest.raises(VocabularyError) as caught:
        large.encode(["zzz"], unknown="error")
    assert caught.value.hint == ("The model knows 60 words, learned from its training data "
                                 "(all of them: the run's vocab.json).")


def test_wrong_kind_of_question_for_the_run(lm_run, qa_run):
    with pytest.raises(ConfigError, match="is a lm run"):
        Predictor.load(lm_run).answer("mary went to the garden.", "where is mary?")
    with pytest.raises(ConfigError, match="is a qa run"):
        Predictor.load(qa_run).next_word("mary moved to the")


def test_loading_through_latest(lm_run):
    predictor = Predictor.load(lm_run.parent / "latest")
    assert predictor.next_word("john went to the", 2) == Predictor.load(lm_run).next_word("john went to the", 2)


# ---- minigrad predict ---------------------------------------------------------------------


def test_predict_next_word(lm_run):
    result = invoke("predict", "--run", lm_run, "--context", "mary moved to the", "--top-k", "3")
    assert result.exit_code == 0, result.output
    expected = Predictor.load(lm_run).next_word("mary moved to the", 3)
    assert f"next word: {expected[0][0]} (p={expected[0][1]:.3f})" in result.output
    rows = table_rows(result.output)
    assert [(rank, word) for rank, word, _ in rows] == [(i + 1, w) for i, (w, _) in enumerate(expected)]
    assert [p for *_, p in rows] == [round(p, 3) for _, p in expected]


def test_predict_uses_runs_latest_by_default(lm_run, monkeypatch):
    monkeypatch.chdir(lm_run.parent.parent)  # where runs/ is, as `train` left it
    result = invoke("predict", "--context", "mary moved to the", "--top-k", "2")
    assert result.exit_code == 0, result.output
    assert len(table_rows(result.output)) == 2


@pytest.mark.parametrize("context, word, suggestion", [
    ("mary moved to the moon", "moon", "The model knows"),
    ("mary walked to the", "walked", "the model never saw it in training Nearest known words: 'travelled', 'went'"),
    ("marry moved to the", "marry", "Did you mean 'mary'"),
    ("mary travelled to the kitchn", "kitchn", "'kitchen'"),
])
def test_predict_unknown_word(lm_run, context, word, suggestion):
    result = invoke("predict", "--run", lm_run, "--context", context)
    assert result.exit_code == 1
    text = one_line(result.output)
    assert f"error: unknown word '{word}'" in text and suggestion in text
    assert "Traceback" not in result.output


def test_predict_without_a_run_folder(tmp_path, monkeypatch):
    result = invoke("predict", "--run", tmp_path / "gone", "--context", "mary")
    assert result.exit_code == 1
    assert f"no run folder at {tmp_path / 'gone'}" in one_line(result.output)
    monkeypatch.chdir(tmp_path)
    result = invoke("predict", "--context", "mary")  # default runs/latest, before any training
    assert result.exit_code == 1
    text = one_line(result.output)
    assert "no run folder at runs/latest" in text and "Train one first: minigrad train babi_rnn" in text
    assert "Traceback" not in result.output


def test_the_hint_of_an_empty_folder_works_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no configs/ here: the hint's bundled name must work all the same
    assert "minigrad train babi_rnn " in one_line(invoke("predict", "--context", "mary").output)
    trained = invoke("train", "babi_rnn", "--epochs", "1")
    assert trained.exit_code == 0, trained.output
    result = invoke("predict", "--context", "mary moved to the")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("next word: ") and (tmp_path / "runs" / "babi_rnn").is_dir()


@pytest.mark.parametrize("missing", ["weights.npz", "vocab.json", "config.yaml", "meta.json",
                                     ["state.json", "checkpoint.npz"]])
def test_predict_from_an_incomplete_run(lm_run_copy, missing):
    for name in [missing] if isinstance(missing, str) else missing:
        (lm_run_copy / name).unlink()
    missing = missing if isinstance(missing, str) else missing[0]
    result = invoke("predict", "--run", lm_run_copy, "--context", "mary moved to the")
    assert result.exit_code == 1
    assert f"run folder {lm_run_copy} is incomplete: missing {missing}" in one_line(result.output)


def test_a_run_killed_between_its_checkpoint_and_state_json_is_complete(lm_run_copy):
    """The checkpoint is written before state.json: once it is whole, so is the epoch."""
    (lm_run_copy / "state.json").unlink()
    result = invoke("predict", "--run", lm_run_copy, "--context", "mary moved to the")
    assert result.exit_code == 0, result.output
    (lm_run_copy / "state.json").write_text('{"epoch": 0}')  # one epoch behind the checkpoint
    resumed = invoke("train", "--resume", lm_run_copy, "--epochs", "2")
    assert resumed.exit_code == 0, resumed.output
    assert "epoch 2" in resumed.output and json.loads((lm_run_copy / "state.json").read_text()) == {"epoch": 2}


def test_predict_from_a_truncated_weights_file(lm_run_copy):
    weights = lm_run_copy / "weights.npz"
    weights.write_bytes(weights.read_bytes()[:200])
    result = invoke("predict", "--run", lm_run_copy, "--context", "mary moved to the")
    assert result.exit_code == 1
    assert f"{weights} is damaged or not a weights file" in one_line(result.output)


@pytest.mark.parametrize("name, text, words", [
    ("vocab.json", "{not json", ["cannot read vocabulary file", "vocab.json"]),
    ("meta.json", "[1, 2", ["meta.json is damaged"]),
    ("config.yaml", "name: [", ["config.yaml is damaged"]),
])
def test_predict_from_a_damaged_run_file(lm_run_copy, name, text, words):
    (lm_run_copy / name).write_text(text)
    result = invoke("predict", "--run", lm_run_copy, "--context", "mary moved to the")
    assert result.exit_code != 0
    for word in words:
        assert word in one_line(result.output)


def test_weights_that_do_not_fit_the_model(lm_run_copy):
    """A config edited after training (another hidden size) must not load the old weights silently."""
    config = lm_run_copy / "config.yaml"
    config.write_text(config.read_text().replace("hidden_size: 8", "hidden_size: 9"))
    with pytest.raises(CheckpointError, match=r"has shape \(8, 8\), but the model expects \(8, 9\)"):
        Predictor.load(lm_run_copy)
    result = invoke("predict", "--run", lm_run_copy, "--context", "mary")
    assert result.exit_code == 1 and "but the model expects" in result.output


def test_context_on_a_qa_run_and_question_on_an_lm_run(lm_run, qa_run):
    result = invoke("predict", "--run", qa_run, "--context", "mary moved to the")
    assert result.exit_code != 0
    assert "is a qa run, which does not take --context" in one_line(result.output)
    assert "Use --story and --question" in result.output

    result = invoke("predict", "--run", lm_run, "--story", "mary went to the garden.", "--question", "where is mary?")
    assert result.exit_code != 0
    assert "is a lm run, which does not take --story and --question" in one_line(result.output)
    assert "Use --context" in result.output


def test_predict_with_nothing_to_predict(lm_run):
    result = invoke("predict", "--run", lm_run)
    assert result.exit_code == 1
    assert "nothing to predict" in result.output and "--context" in result.output


STORY = "mary went to the garden. john moved to the office."


def test_predict_answer(qa_run):
    result = invoke("predict", "--run", qa_run, "--story", STORY, "--question", "where is mary?", "--top-k", "3")
    assert result.exit_code == 0, result.output
    expected = Predictor.load(qa_run).answer(STORY, "where is mary?", 3)
    assert f"answer: {expected[0][0]} (p={expected[0][1]:.3f})" in result.output
    assert [w for _, w, _ in table_rows(result.output)] == [w for w, _ in expected]


def test_predict_answer_from_a_story_file(qa_run, tmp_path):
    story_file = tmp_path / "story.txt"
    story_file.write_text(STORY.replace(". ", ".\n"))
    from_file = invoke("predict", "--run", qa_run, "--story-file", story_file, "--question", "where is mary?")
    inline = invoke("predict", "--run", qa_run, "--story", STORY, "--question", "where is mary?")
    assert from_file.exit_code == 0, from_file.output
    assert from_file.output == inline.output and "answer: " in from_file.output


def test_predict_answer_problems(qa_run, tmp_path):
    result = invoke("predict", "--run", qa_run, "--story-file", tmp_path / "none.txt", "--question", "where is mary?")
    assert result.exit_code == 1
    assert f"cannot read --story-file {tmp_path / 'none.txt'}" in one_line(result.output)

    result = invoke("predict", "--run", qa_run, "--story", STORY, "--question", "where is mary")
    assert result.exit_code != 0
    assert "does not end with a question" in result.output

    result = invoke("predict", "--run", qa_run, "--story", "mary went to the moon.", "--question", "where is mary?")
    assert result.exit_code == 1
    assert "unknown word 'moon'" in result.output


def test_trained_qa_model_prefers_places(qa_run):
    """Even after one epoch the answer to 'where is' is a place: the model learned something."""
    words = [w for w, _ in Predictor.load(qa_run).answer(STORY, "where is mary?", 3)]
    assert set(words) <= LOCATIONS, words


# ---- a run folder is all prediction needs --------------------------------------------------


def test_predict_without_the_data_from_another_folder(tmp_path, monkeypatch):
    """A run made with a relative task path still predicts once the data is gone, from any folder."""
    import shutil

    from conftest import write_config
    from minigrad.data import resolve_task

    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    for split in ("train", "test"):
        shutil.copy(resolve_task(1, split), work / "data" / f"tiny_{split}.txt")
    monkeypatch.chdir(work)
    config = write_config(work, data={"task": "data/tiny_train.txt"})
    assert invoke("train", config).exit_code == 0
    expected = Predictor.load(work / "runs" / "tiny").next_word("mary moved to the", 3)

    shutil.rmtree(work / "data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("predict", "--run", work / "runs" / "tiny", "--context", "mary moved to the", "--top-k", "3")
    assert result.exit_code == 0, result.output
    assert [w for _, w, _ in table_rows(result.output)] == [w for w, _ in expected]
    assert Predictor.load(work / "runs" / "latest").next_word("mary moved to the", 3) == expected


def test_meta_and_config_must_agree_on_the_mode(lm_run_copy):
    (lm_run_copy / "meta.json").write_text('{"mode": "qa", "story_len": 5, "question_len": 3}')
    result = invoke("predict", "--run", lm_run_copy, "--story", "mary went home.", "--question", "where is mary?")
    assert result.exit_code == 1
    assert f"{lm_run_copy / 'meta.json'} says mode 'qa', but config.yaml says 'lm'" in one_line(result.output)


def test_weights_of_another_kind_are_named(lm_run_copy):
    from minigrad import serialization

    weights = lm_run_copy / "weights.npz"
    names = list(serialization.load(weights))
    serialization.save({"x": np.zeros(3)}, weights)
    result = invoke("predict", "--run", lm_run_copy, "--context", "mary")
    assert result.exit_code == 1
    assert f"{weights}: weights do not match the model" in one_line(result.output)
    serialization.save({name: np.array(["text"] * 2) for name in names}, weights)
    result = invoke("predict", "--run", lm_run_copy, "--context", "mary")
    assert result.exit_code == 1 and "values, not numbers" in result.output
