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
    (["1 Mary went home.", "2 Where is Mary?"], 2, "line 2 is a question without its answer"),
    (["1 Mary went home.", "2 Where is Mary?  "], 2, "question without its answer"),
    (["\u00b2 Mary went home."], 1, "line id"),  # a digit to isdigit(), not to int()
    (["1" * 1900 + " Mary went home."], 1, "line id"),  # a line id of 1,900 digits
    (["1" * 5000 + " Mary went home."], 1, "a line longer than the 2,000 characters"),
])
def test_broken_line_names_file_and_line(tmp_path, lines, bad_line, words):
    path = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        load_stories(path)
    assert f"{path}:{bad_line}:" in info.value.message
    assert words in info.value.message


STORY = "1 Mary moved to the bathroom.\n2 John went to the hallway.\n3 Where is Mary?\tbathroom\t1\n"


@pytest.mark.parametrize("encode", [
    lambda text: text.encode("utf-8-sig"),  # a byte-order mark, as some editors write
    lambda text: text.replace("\n", "\r\n").encode(),
    lambda text: (text + "\n\n").encode(),
    lambda text: text.replace("\n", "\r\n").encode("utf-8-sig") + b"\r\n",
], ids=["bom", "crlf", "trailing-blank-lines", "all-three"])
def test_file_conventions_do_not_change_the_stories(tmp_path, encode):
    from minigrad.data import build_vocabulary

    plain, other = tmp_path / "plain_train.txt", tmp_path / "other_train.txt"
    plain.write_bytes(STORY.encode())
    other.write_bytes(encode(STORY))
    stories = load_stories(other)
    assert stories == load_stories(plain)
    assert stories[0].sentences[0] == Sentence(1, ("mary", "moved", "to", "the", "bathroom", "."))
    assert build_vocabulary(stories, "qa") == build_vocabulary(load_stories(plain), "qa")


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff", "\r\n  \r\n"])
def test_a_file_without_lines_is_refused(tmp_path, text):
    path = tmp_path / "empty_train.txt"
    path.write_text(text, encoding="utf-8", newline="")
    with pytest.raises(DataError, match=f"{path}: the file has no lines"):
        load_stories(path)


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


# ---- through the command line ----------------------------------------------------------------


def task_files(folder, train, test=STORY, name="mine"):
    """Write a task's two files into ``folder``; return the training file's path."""
    (folder / f"{name}_test.txt").write_text(test, encoding="utf-8", newline="")
    path = folder / f"{name}_train.txt"
    path.write_text(train, encoding="utf-8", newline="")
    return path


def test_train_on_a_file_with_a_byte_order_mark(tmp_path):
    from conftest import TINY_QA, invoke, write_config

    config = write_config(tmp_path, TINY_QA, data={"task": str(task_files(tmp_path, "\ufeff" + STORY))})
    result = invoke("train", config)
    assert result.exit_code == 0, result.output
    words = (tmp_path / "runs" / "tinyqa" / "vocab.json").read_text()
    assert '"mary"' in words and "\\ufeff" not in words


@pytest.mark.parametrize("mode, train, test, bad, words", [
    ("lm", "", STORY, "train", "the file has no lines"),
    ("lm", "\n", STORY, "train", "the file has no lines"),
    ("lm", STORY, "", "test", "the file has no lines"),
    ("lm", "1 Hello\n", STORY, "train", "nothing to train on in mode lm: no line has two words or more"),
    ("qa", "1 Mary moved to the bathroom.\n", STORY, "train", "nothing to train on in mode qa: it has no questions"),
    ("qa", STORY, "1 Mary moved to the bathroom.\n", "test", "nothing to test on in mode qa: it has no questions"),
    ("qa", "1 Mary moved.\n2 Where is Mary?\n", STORY, "train", ":2: line 2 is a question without its answer"),
])
def test_train_refuses_a_task_with_nothing_to_learn(tmp_path, mode, train, test, bad, words):
    from conftest import TINY_LM, invoke, one_line, write_config

    path = task_files(tmp_path, train, test)
    config = write_config(tmp_path, TINY_LM, data={"task": str(path), "mode": mode})
    result = invoke("train", config)
    assert result.exit_code == 2, result.output
    assert f"error: {tmp_path / f'mine_{bad}.txt'}" in one_line(result.output)
    assert words in one_line(result.output)
    assert not (tmp_path / "runs").exists()  # refused before a run folder was made
