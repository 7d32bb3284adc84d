"""``minigrad evaluate``: a saved run's figures on its tasks' test files, --task, --data, --weights."""

import json

import pytest

from conftest import TINY_QA, invoke, one_line, train_run
from minigrad.tool import per_task, runs


def evaluate_json(*args):
    result = invoke("evaluate", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_run_is_scored_on_its_test_split_as_training_scored_it(qa_run):
    found = evaluate_json(qa_run)
    last = runs.load_run(qa_run).metrics[-1]
    (score,) = found["scores"]
    assert score["task"] == "qa1" and score["examples"] == TINY_QA["data"]["test_size"]
    assert score["loss"] == pytest.approx(last["test_loss"], rel=1e-5)
    assert score["accuracy"] == pytest.approx(last["test_acc"]) and score["error"] == pytest.approx(
        100 * (1 - last["test_acc"]))
    assert found["weights"].startswith("last (epoch 1)") and "all" not in found


def test_the_text_output_names_the_weights_and_the_figures(qa_run):
    result = invoke("evaluate", qa_run)
    assert result.exit_code == 0, result.output
    text = one_line(result.output)
    assert f"run {qa_run}, weights: last (epoch 1)" in text
    assert "qa1" in text and "error (%)" in text and "qa1_single-supporting-fact_test.txt" in text


def test_a_joint_run_is_scored_per_task_with_best_or_last_weights(tmp_path):
    run = train_run(tmp_path, TINY_QA, data={**TINY_QA["data"], "task": [1, 2], "valid_fraction": 0.2},
                    train={"epochs": 2, "seed": 0})
    last = evaluate_json(run, "--weights", "last")
    assert [s["task"] for s in last["scores"]] == ["qa1", "qa2"] and last["weights"] == "last (epoch 2)"
    row = runs.load_run(run).metrics[-1]
    assert last["all"]["loss"] == pytest.approx(row["test_loss"], rel=1e-5)
    assert last["all"]["accuracy"] == pytest.approx(row["test_acc"])
    saved = {r["task"]: r["test_error"] for r in per_task.load(run)}
    assert {s["task"]: round(s["error"], 4) for s in last["scores"]} == pytest.approx(saved, abs=1e-3)
    best = evaluate_json(run)
    epoch = json.loads((run / "best.json").read_text())["epoch"]
    assert best["weights"] == f"best on validation (epoch {epoch})"
    one = evaluate_json(run, "--task", "2")
    assert [s["task"] for s in one["scores"]] == ["qa2"] and "all" not in one


def test_any_babi_file_is_scored_whole(qa_run, tmp_path):
    data = tmp_path / "mine.txt"
    data.write_text("1 Mary moved to the bathroom.\n2 Where is Mary?\tbathroom\t1\n"
                    "1 John went to the zebra.\n2 Where is John?\thallway\t1\n")
    (score,) = evaluate_json(qa_run, "--data", data)["scores"]
    assert (score["task"], score["examples"], score["file"]) == ("mine.txt", 2, str(data))


@pytest.mark.parametrize("text, message", [
    ("1 Mary moved to the bathroom.\nnot a numbered line\n", "mine.txt:2: expected a line id"),
    ("1 Mary moved to the bathroom.\n", "nothing to evaluate in mode qa: it has no questions"),
])
def test_a_damaged_file_is_one_message(qa_run, tmp_path, text, message):
    data = tmp_path / "mine.txt"
    data.write_text(text)
    result = invoke("evaluate", qa_run, "--data", data)
    assert result.exit_code == 2 and message in one_line(result.output)
    assert "Traceback" not in result.output


def test_refused_options(qa_run, tmp_path):
    both = invoke("evaluate", qa_run, "--task", "1", "--data", tmp_path / "x.txt")
    assert both.exit_code == 2 and "give --task or --data, not both" in one_line(both.output)
    missing = invoke("evaluate", qa_run, "--data", tmp_path / "none.txt")
    assert missing.exit_code == 2 and f"data file not found: {tmp_path / 'none.txt'}" in one_line(missing.output)
    weights = invoke("evaluate", qa_run, "--weights", "middle")
    assert weights.exit_code == 2 and "give best or last" in one_line(weights.output)
    for task in ("²", "99999999999"):
        odd = invoke("evaluate", qa_run, "--task", task)
        assert odd.exit_code == 2 and "unknown task" in one_line(odd.output)
    listed = one_line(invoke("evaluate", qa_run, "--task", "1,2").output)
    assert "--task '1,2': --task takes one task, not a list." in listed
    assert "Without --task, evaluate scores every task the run trained on; or score them one at a time: --task 1" in listed
    gone = invoke("evaluate", tmp_path / "gone")
    assert gone.exit_code == 1 and "no run folder at" in one_line(gone.output)
