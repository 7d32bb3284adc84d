"""One model for several tasks (data.task: a list, or all): the union of the
tasks' training sets with one vocabulary, the per-task validation split, the
padding to the largest task, per_task.csv and the table at the end of
minigrad train, prediction from a joint run, and the config's errors."""

import csv
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import TINY_LM, invoke, one_line, write_config
from minigrad.tool import evaluation
from minigrad.tool.config import load_config
from minigrad.data import MemoryDataset, QADataset, build_datasets, build_vocabulary, load_task
from minigrad.data.joint import describe_tasks, task_list, task_name
from minigrad.data.vocab import PAD_ID
from minigrad.errors import ConfigError
from minigrad.tool.predict import Predictor

# Tasks 1 and 4 answer with places, task 6 with yes or no; task 4's sentences are a word longer
# (6 words, not 5, plus the age's position: 7, not 6), task 6's stories the longest of the three
# (14 statements in its first 40 questions).
TASKS = [1, "qa4", 6]

TINY_JOINT = {
    "name": "tinyjoint",
    "data": {"task": TASKS, "mode": "memory", "batch_size": 16, "train_size": 40, "test_size": 30,
             "valid_fraction": 0.25},
    "model": {"type": "memn2n", "embedding_dim": 8, "hops": 2},
    "loss": {"reduction": "sum"},
    "optimizer": {"name": "sgd", "lr": 0.01, "clip_norm": 40.0},
    "train": {"epochs": 2, "seed": 0},
}


def _data(task=TASKS, **fields):
    values = dict(task=task, mode="memory", train_size=40, test_size=30, valid_fraction=0.25)
    return SimpleNamespace(**{**values, **fields})


def _answers(vocab, dataset):
    return vocab.decode(dataset.answers)


@pytest.fixture(scope="module")
def joint():
    return build_datasets(_data())


@pytest.fixture(scope="module")
def alone():
    """Each task built by itself (its own vocabulary), with the same sizes."""
    return [build_datasets(_data(task)) for task in TASKS]


# ---- the data --------------------------------------------------------------------------------


def test_the_union_holds_every_task_and_one_vocabulary(joint, alone):
    assert [t.name for t in joint.tasks] == ["qa1", "qa4", "qa6"]
    assert (len(joint.train), len(joint.valid), len(joint.test)) == (3 * 30, 3 * 10, 3 * 30)
    stories = [story for task in TASKS for story in load_task(task, "train", "strip")]  # mode memory strips . and ?
    assert joint.vocab == build_vocabulary(stories, "memory")
    for single in alone:  # every task's words are in it
        assert set(single.vocab.words) <= set(joint.vocab.words)
    assert {"yes", "no", "kitchen", "north"} <= set(joint.vocab.words)
    # the union is each task's training questions, in order
    assert _answers(joint.vocab, joint.train) == [w for a in alone for w in _answers(a.vocab, a.train)]


def test_validation_is_the_end_of_each_tasks_training_questions(joint, alone):
    for part, single in zip(joint.tasks, alone):
        assert _answers(joint.vocab, part.valid) == _answers(single.vocab, single.valid)
        assert _answers(joint.vocab, part.test) == _answers(single.vocab, single.test)
        assert len(part.valid) == 10
    assert _answers(joint.vocab, joint.valid) == [w for a in alone for w in _answers(a.vocab, a.valid)]


def test_memories_and_sentences_are_padded_to_the_largest_task(joint, alone):
    assert [a.train.sentence_len for a in alone] == [6, 7, 6]
    slots = max(a.train.slots for a in alone)
    assert joint.train.sentence_len == 7 and joint.train.slots == slots == 14
    for part in joint.tasks:  # what a model is scored on has the training sentence length and slots
        assert part.test.sentence_len == part.valid.sentence_len == joint.test.sentence_len == 7
        assert part.test.slots == part.valid.slots == joint.test.slots == 14
    first = alone[0].train  # task 1's questions open the union: their words, then <pad>
    memories = joint.train.memories[:len(first)]
    words = [alone[0].vocab.decode(row) for row in first.memories.reshape(-1, first.sentence_len)]
    assert [joint.vocab.decode(row) for row in memories[:, :first.slots].reshape(-1, 7)] == words
    assert (memories[:, :, 6] == PAD_ID).all() and (memories[:, first.slots:] == PAD_ID).all()
    assert np.array_equal(joint.train.counts[:len(first)], first.counts)


def test_batches_mix_the_tasks(joint):
    rng = np.random.default_rng(0)
    seen, mixed = [], 0
    for batch in joint.train.batches(16, rng):
        answers = set(joint.vocab.decode(batch.answers))
        yes_no = answers & {"yes", "no"}
        mixed += bool(yes_no) and bool(answers - yes_no)
        seen += joint.vocab.decode(batch.answers)
    assert mixed >= 3  # task 6 is a third of the questions: most batches hold it and another task
    assert sorted(seen) == sorted(_answers(joint.vocab, joint.train))  # each question once an epoch


def test_qa_and_lm_modes_join_too():
    qa = build_datasets(_data(mode="qa", max_story_len=None, max_question_len=None))
    assert isinstance(qa.train, QADataset) and len(qa.train) == 90
    story_len = max(p.train.story_len for p in qa.tasks)
    assert qa.train.story_len == qa.test.story_len == story_len
    assert {p.test.story_len for p in qa.tasks} == {story_len}
    lm = build_datasets(_data(mode="lm", max_len=None, valid_fraction=0.0))
    assert len(lm.train) == 3 * 40 and lm.valid is None and all(p.valid is None for p in lm.tasks)


def test_all_is_the_twenty_tasks():
    assert task_list("all") == list(range(1, 21)) and task_list("ALL") == list(range(1, 21))
    assert task_list(3) is None and task_list("qa3") is None
    assert [task_name(t) for t in (3, "3", "qa3", "data/babi/qa3_three-supporting-facts_train.txt",
                                   "mine/toy_train.txt")] == ["qa3"] * 4 + ["toy"]
    assert describe_tasks("all") == "all 20 tasks" and describe_tasks([1, "qa4"]) == "tasks qa1, qa4"
    assert describe_tasks(2) == "task 2"


# ---- training, per_task.csv, the table, prediction ---------------------------------------------


def _rows(file):
    with open(file, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def joint_run(tmp_path):
    result = invoke("train", write_config(tmp_path, TINY_JOINT))
    assert result.exit_code == 0, result.output
    return tmp_path / "runs" / "tinyjoint", result.output


def test_per_task_csv_holds_each_tasks_errors_of_a_direct_evaluation(joint_run):
    run_dir, _ = joint_run
    rows = _rows(run_dir / "per_task.csv")
    assert list(rows[0]) == ["task", "test_error", "valid_error"]
    assert [r["task"] for r in rows] == ["qa1", "qa4", "qa6"]
    predictor = Predictor.load(run_dir)  # the trained weights, in the run's vocabulary
    config = load_config(run_dir / "config.yaml")
    right = []
    for row, task in zip(rows, TASKS):
        test = MemoryDataset.from_stories(load_task(task, "test", "strip"), predictor.vocab, 50,
                                          predictor.meta["sentence_len"], limit=30, slots=predictor.meta["slots"])
        _, accuracy = evaluation.evaluate(predictor.model, test, config)
        assert float(row["test_error"]) == pytest.approx(100 * (1 - accuracy), abs=1e-3)
        assert 0 <= float(row["valid_error"]) <= 100
        right.append(accuracy * len(test))
    last = _rows(run_dir / "metrics.csv")[-1]  # the row stays the figure over all the tasks' questions
    assert float(last["test_acc"]) == pytest.approx(sum(right) / 90, abs=1e-5)


def test_train_ends_with_the_per_task_table(joint_run):
    run_dir, output = joint_run
    text = one_line(output.replace("│", " "))  # the table's cells, without their borders
    assert "tinyjoint: tasks qa1, qa4, qa6, mode memory" in text
    assert "error per task (%)" in text and "test error" in text and "valid error" in text
    rows = _rows(run_dir / "per_task.csv")
    errors = [float(r["test_error"]) for r in rows]
    for row in rows:
        assert f"{row['task']} {float(row['test_error']):.1f} {float(row['valid_error']):.1f}" in text
    assert f"mean {np.mean(errors):.1f}" in text
    assert f"failed (> 5%) {sum(e > 5 for e in errors)}" in text
    assert text.index("error per task") < text.index("saved to")


def test_predict_needs_only_the_joint_run_folder(joint_run, tmp_path, monkeypatch):
    run_dir, _ = joint_run
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "no-data-here"))
    result = invoke("predict", "--run", run_dir, "--story", "Mary moved to the bathroom.",
                    "--question", "Is Mary in the bathroom?")
    assert result.exit_code == 0, result.output
    assert "answer:" in result.output and "attention over the story" in result.output


def test_a_single_task_run_is_unchanged(tmp_path):
    result = invoke("train", "babi_rnn", "--out", tmp_path / "runs")
    assert result.exit_code == 0, result.output
    run_dir = tmp_path / "runs" / "babi_rnn"
    assert round(float(_rows(run_dir / "metrics.csv")[-1]["test_acc"]), 3) == 0.696  # epoch 10
    assert not (run_dir / "per_task.csv").exists() and "error per task" not in result.output
    assert "babi_rnn: task 1, mode lm" in one_line(result.output)


# ---- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("task, expected", [
    ([], "data.task: the list of tasks is empty"),
    ([1, "qa1"], "data.task: task qa1 is listed twice (1 and 'qa1')"),
    ([2, 2], "data.task: task qa2 is listed twice"),
    ([1, "qa21"], "data.task: unknown task 'qa21'"),
    ([1, 2.5], "data.task: 2.5 in the list is not a task"),
    ([1, "nowhere/x_train.txt"], "data.task: data file not found: nowhere/x_train.txt"),
])
def test_a_wrong_list_of_tasks_names_the_field(tmp_path, task, expected):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, TINY_LM, data={"task": task}))
    assert expected in one_line(str(info.value))
