"""The published columns: each checked against its printed mean and failed count, a column that
gives only some tasks, and the columns a suite shows (--columns, and a default per model)."""

import io
from types import SimpleNamespace

import pytest
import yaml
from rich.console import Console

from conftest import invoke, one_line, write_config
from minigrad.errors import ConfigError
from minigrad.tool.suite import baselines as published, plan as suite, report
from minigrad.tool.suite.run import run_suite
from minigrad.tool.suite.view import LineView
from test_suite import FAST, TINY_SUITE, read_csv

KEYS = ["lstm", "memn2n_pe_ls_rn", "memn2n_joint", "gmemn2n_hop", "gmemn2n_global", "memn2n_rerun", "ut_act",
        "ut_act_joint", "qrn"]


def packaged():
    return {b.key: b for b in published.load_baselines()}


def test_every_packaged_column_with_its_printed_summary():
    columns = packaged()
    assert list(columns) == KEYS
    summaries = {key: (b.mean, b.failed, b.partial) for key, b in columns.items()}
    assert summaries == {"lstm": (51.3, 20, False), "memn2n_pe_ls_rn": (13.9, 11, False),
                         "memn2n_joint": (12.4, 11, False), "gmemn2n_hop": (12.7, None, False),
                         "gmemn2n_global": (13.4, None, False), "memn2n_rerun": (13.9, None, False),
                         "ut_act": (4.55, 3, False), "ut_act_joint": (7.78, 5, False), "qrn": (9.9, 7, True)}
    assert (columns["gmemn2n_hop"].errors[3], columns["gmemn2n_global"].errors[19]) == (38.8, 89.7)
    assert (columns["ut_act"].errors[17], columns["ut_act_joint"].errors[19]) == (32.0, 68.2)
    assert columns["qrn"].errors == {2: 0.7, 3: 5.7, 4: 0.0, 5: 1.1}


def write_columns(tmp_path, *columns):
    path = tmp_path / "baselines.yaml"
    path.write_text(yaml.safe_dump({"columns": list(columns)}))
    return path


def column(errors, **fields):
    return {"key": "x", "source": "Paper, Table 1", "errors": errors, **fields}


ONES = {task: 1.0 for task in range(1, 21)}


@pytest.mark.parametrize("changed, message", [
    ({"mean": 1.2}, "column x: the tasks' mean is 1.000, not the 1.2 printed; a figure is mistyped"),
    ({"mean": 1.0, "failed": 1}, "column x: 0 tasks fail, not the 1 printed"),
    ({}, "column x: give the mean its source prints"),
    ({"errors": {**ONES, 7: 9.0}, "mean": 1.4, "failed": 1}, None),  # 28 / 20 = 1.4, one task failed
    ({"errors": {**ONES, 7: 9.0}, "mean": 1.0, "failed": 1}, "the tasks' mean is 1.400, not the 1 printed"),
    ({"errors": {2: 1.0, 3: 1.0}, "mean": 1.0}, "column 1 needs a key, a source and the errors of tasks 1-20"),
    ({"errors": {2: 1.0, 3: 9.0}, "mean": 1.0, "failed": 7, "partial": True}, None),
    ({"errors": {2: 9.0, 3: 9.0}, "mean": 1.0, "failed": 1, "partial": True},
     "column x: 2 of the tasks given fail, more than the 1 printed"),
    ({"errors": {2: 90.0, 3: 9.0}, "mean": 1.0, "partial": True},
     "column x: the tasks given already add up to more than a mean of 1"),
])
def test_a_column_must_give_its_printed_summary(tmp_path, changed, message):
    path = write_columns(tmp_path, column(**{"errors": ONES, **changed}))
    if message is None:
        assert published.load_baselines(path)[0].key == "x"
        return
    with pytest.raises(ConfigError) as info:
        published.load_baselines(path)
    assert message in one_line(str(info.value))


def test_the_printed_mean_is_matched_to_its_last_decimal(tmp_path):
    errors = {**{task: 0.0 for task in range(1, 21)}, 19: 155.7}  # mean 7.785
    assert published.load_baselines(write_columns(tmp_path, column(errors, mean=7.78)))  # 7.785 prints as 7.78
    with pytest.raises(ConfigError, match="the tasks' mean is 7.785, not the 7.77 printed"):
        published.load_baselines(write_columns(tmp_path, column(errors, mean=7.77)))


def summary_of(tasks, baselines):
    results = [dict(task=t, seed=0, status="done", train_error=0.0, valid_error=1.0, test_error=2.0)
               for t in tasks]
    return report.summarize(results, tasks, "valid", baselines)


def test_a_partial_column_shows_n_a_and_its_printed_summary_over_all_tasks():
    qrn = [packaged()["qrn"]]
    header, rows = report.table(summary_of(list(range(1, 21)), qrn), qrn)
    assert header[-1] == "QRN 2r"
    assert [row[-1][0] for row in rows[:6]] == ["n/a", "0.7", "5.7", "0.0", "1.1", "n/a"]
    assert (rows[-2][-1], rows[-1][-1]) == (("9.9*", None), ("7*", None))  # mean and failed as printed
    assert rows[2][-1] == ("5.7", 5.7)  # a published figure is coloured like the others


def test_a_partial_column_over_some_tasks():
    qrn = [packaged()["qrn"]]
    _, rows = report.table(summary_of([2, 3], qrn), qrn)
    assert (rows[-2][-1][0], rows[-1][-1][0]) == ("3.2", "1")  # the tasks shown are all given: computed
    _, rows = report.table(summary_of([1, 2], qrn), qrn)
    assert (rows[-2][-1][0], rows[-1][-1][0]) == ("n/a", "n/a")  # task 1 is not: no mean to show


def test_summary_md_says_which_tasks_a_partial_column_gives():
    qrn = [packaged()["qrn"]]
    text = report.markdown(summary_of([2, 6], qrn), qrn, "valid")
    assert "| n/a |" in text and "QRN 2r: Seo et al. 2017" in text
    assert "It gives tasks 2, 3, 4, 5 only (n/a: no figure)" in text


# ---- which columns a suite shows -----------------------------------------------------------------


def test_columns_are_parsed_by_key_and_all_means_every_one():
    columns = list(packaged().values())
    assert published.parse_columns("gmemn2n_hop, memn2n_pe_ls_rn", columns) == ["gmemn2n_hop", "memn2n_pe_ls_rn"]
    assert published.parse_columns("all", columns) == KEYS


@pytest.mark.parametrize("text, message", [
    ("gmemn2n_hops", "--columns: unknown column 'gmemn2n_hops'; did you mean 'gmemn2n_hop'?"),
    ("", "--columns: give the keys of the published columns to show"),
])
def test_an_unknown_column_names_the_valid_keys(text, message):
    with pytest.raises(ConfigError) as info:
        published.parse_columns(text, list(packaged().values()))
    assert message in one_line(str(info.value)) and ", ".join(KEYS) in info.value.hint


@pytest.mark.parametrize("model, keys", [
    (SimpleNamespace(type="memn2n", gates="none"), ["lstm", "memn2n_pe_ls_rn", "memn2n_joint"]),
    (SimpleNamespace(type="memn2n", gates="per_hop"),
     ["memn2n_pe_ls_rn", "memn2n_rerun", "gmemn2n_hop", "gmemn2n_global"]),
    (SimpleNamespace(type="recurrent"), ["lstm", "memn2n_pe_ls_rn"]),
    (SimpleNamespace(type="class"), ["memn2n_pe_ls_rn", "gmemn2n_hop", "qrn", "ut_act"]),
])
def test_each_model_has_default_columns_that_exist(model, keys):
    assert published.default_columns(model) == keys and set(keys) <= set(KEYS)


def test_a_suite_shows_the_columns_asked_for(tmp_path):
    config = write_config(tmp_path, TINY_SUITE)
    setup = suite.prepare(config, FAST, [2], 1, tmp_path / "s", columns="qrn,ut_act")
    run_suite(setup, 1, lambda progress: LineView(Console(file=io.StringIO()), progress))
    summary = read_csv(setup.folder / "summary.csv")
    assert list(summary[0])[-2:] == ["qrn", "ut_act"] and (summary[0]["qrn"], summary[0]["ut_act"]) == ("0.70", "0.00")
    text = (setup.folder / "summary.md").read_text()
    assert "| QRN 2r | UT w/ ACT |" in text and "LSTM" not in text


def test_an_unknown_column_stops_the_suite_before_it_starts(tmp_path):
    result = invoke("suite", write_config(tmp_path, TINY_SUITE), "--tasks", "1", "--columns", "memn2n,qrn",
                    "--out", tmp_path / "s")
    assert result.exit_code == 2 and "--columns: unknown column 'memn2n'" in one_line(result.output)
    assert "Valid keys: lstm, memn2n_pe_ls_rn" in one_line(result.output) and not (tmp_path / "s").exists()
