"""Parsing bAbI task files and finding a task's files."""

import pytest

from minigrad.data import babi
from minigrad.data.babi import (Question, Sentence, load_stories, load_task, parse_stories,
                                resolve_task, tokenize)
from minigrad.errors import DataError


@pytest.fixture(scope="module")
def qa1_train():
    return load_task(1, "train")


def write(tmp_path, text, name="tiny_train.txt"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- real files ------------------------------------------------------------------------


def test_qa1_train_has_200_stories_and_1000_questions(qa1_train):
    assert len(qa1_train) == 200
    assert sum(len(s.questions) for s in qa1_train) == 1000
    assert sum(len(s.sentences) for s in qa1_train) == 2000


def test_first_story_of_qa1(qa1_train):
    story = qa1_train[0]
    assert story.sentences[0] == Sentence(1, ("mary", "moved", "to", "the", "bathroom", "."))
    first, last = story.questions[0], story.questions[-1]
    assert first == Question(3, ("where", "is", "mary", "?"), "bathroom", (1,))
    assert last == Question(15, ("where", "is", "sandra", "?"), "bathroom", (8,))
    assert [s.id for s in story.context(first)] == [1, 2]
    assert [line.id for line in story.lines()] == list(range(1, 16))


def test_every_task_has_1000_questions_per_split():
    for number in range(1, 21):
        for split in ("train", "test"):
            stories = load_task(number, split)
            assert sum(len(s.questions) for s in stories) == 1000, (number, split)


def test_list_answers_stay_one_token():
    answers = {q.answer for s in load_task(8, "train") for q in s.questions}
    assert "apple,football" in answers


# ---- tokenizer and line format -------------------------------------------------------------


def test_tokenize_splits_punctuation_and_lowercases():
    assert tokenize("Mary?") == ["mary", "?"]
    assert tokenize("garden.") == ["garden", "."]
    assert tokenize("Where is Mary? ") == ["where", "is", "mary", "?"]
    assert tokenize("  ") == []


def test_a_story_ends_where_ids_restart(tmp_path):
    text = ("1 A went home.\r\n2 Where is A?\thome\t1\r\n\n"
            "1 B went out.\n2 C went in.\n3 Where is C? \tin\t2\n")
    stories = load_stories(write(tmp_path, text))
    assert [len(s.sentences) for s in stories] == [1, 2]
    assert stories[1].questions[0] == Question(3, ("where", "is", "c", "?"), "in", (2,))


@pytest.mark.parametrize("lines, bad_line, words", [
    (["x Mary went home."], 1, "line id"),
    (["1 Mary went home.", "2 Where is Mary?\thome"], 2, "3 tab-separated"),
    (["1 Mary went home.", "2 Where is Mary?\thome\tone"], 2, "supporting"),
    (["1 Mary went home.", "3 John went home."], 2, "out of order"),
    (["1 Mary went home.", "2 Where is Mary?\thome\t5"], 2, "supporting fact 5"),
    (["1 Mary went home.", "2 Where is Mary?\t\t1"], 2, "answer"),
    (["1 Mary went home.", "2 "], 2, "no text"),
])
def test_broken_line_names_file_and_line(tmp_path, lines, bad_line, words):
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        load_stories(path)
    assert f"{path}:{bad_line}:" in info.value.message
    assert words in info.value.message


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_stories(tmp_path / "nope_train.txt")


def test_parse_stories_takes_any_lines():
    stories = parse_stories(["1 A b.", "2 C d?\te\t1"], source="mem")
    assert stories[0].questions[0].answer == "e"


# ---- task resolution --------------------------------------------------------------------


@pytest.mark.parametrize("task", [1, "1", "qa1", "QA1"])
def test_resolve_task_by_number_and_name(task):
    assert resolve_task(task, "train").name == "qa1_single-supporting-fact_train.txt"
    assert resolve_task(task, "test").name == "qa1_single-supporting-fact_test.txt"


def test_qa1_is_not_qa10():
    assert resolve_task(10).name.startswith("qa10_")
    assert resolve_task("qa1").name.startswith("qa1_")


def test_resolve_task_by_path(tmp_path):
    train = write(tmp_path, "1 A b.\n", "mine_train.txt")
    write(tmp_path, "1 A b.\n", "mine_test.txt")
    assert resolve_task(str(train), "train") == train
    assert resolve_task(train, "test") == tmp_path / "mine_test.txt"


def test_path_needs_a_test_file_beside_it(tmp_path):
    train = write(tmp_path, "1 A b.\n", "mine_train.txt")
    with pytest.raises(DataError, match="not found"):
        resolve_task(str(train), "test")
    other = write(tmp_path, "1 A b.\n", "mine.txt")
    with pytest.raises(DataError, match="_train"):
        resolve_task(str(other), "test")


@pytest.mark.parametrize("task", [0, 21, "qa21", "foo", "qa"])
def test_unknown_task_lists_valid_ones(task):
    with pytest.raises(DataError) as info:
        resolve_task(task)
    assert "unknown task" in info.value.message
    assert "1-20" in info.value.hint and "qa1-qa20" in info.value.hint


def test_data_folder_from_environment(tmp_path, monkeypatch):
    write(tmp_path, "1 A b.\n", "qa3_custom_train.txt")
    monkeypatch.setenv(babi.DATA_ENV, str(tmp_path))
    assert resolve_task(3) == tmp_path / "qa3_custom_train.txt"
    assert babi.task_names() == ["qa3"]
    with pytest.raises(DataError, match="no test file for task qa3"):
        resolve_task(3, "test")


def test_default_data_folder_is_the_repository_one(monkeypatch):
    monkeypatch.delenv(babi.DATA_ENV, raising=False)
    assert babi.data_dir().parts[-2:] == ("data", "babi")
    assert babi.task_names() == [f"qa{n}" for n in range(1, 21)]
