"""Data files and predict inputs made to hurt: a line without line breaks,
a story file that is binary, endless or not UTF-8, and options that would be
silently dropped. One message each, naming what to fix."""

import pytest

from conftest import invoke, one_line, write_config, TINY_LM
from minigrad.data import babi


def test_a_line_without_line_breaks_is_refused_after_a_few_kilobytes(tmp_path):
    task = tmp_path / "long_train.txt"
    task.write_text("1 " + "word " * 100_000)  # 500 kB on one line: padded, it would need terabytes
    (tmp_path / "long_test.txt").write_text("1 Mary went home.\n2 Where is Mary?\thome\t1\n")
    result = invoke("train", write_config(tmp_path, TINY_LM), "--task", task)
    text = one_line(result.output)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert f"{task}:1: a line longer than the {babi.MAX_LINE_CHARS:,} characters" in text


@pytest.mark.parametrize("content, words", [
    (b"1 Mary went to the caf\xe9.\n", "is not UTF-8 text (byte 22)"),
    (b"\x00\xff" * 10, "is not UTF-8 text"),
    (b"1 Mary went home.\n" * 20_000, "is larger than 256 KiB"),
])
def test_a_story_file_that_cannot_be_a_story(qa_run, tmp_path, content, words):
    story = tmp_path / "story.txt"
    story.write_bytes(content)
    result = invoke("predict", "--run", qa_run, "--story-file", story, "--question", "where is mary?")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"--story-file {story} {words}" in one_line(result.output)


def test_an_endless_story_file_is_not_read_whole(qa_run):
    result = invoke("predict", "--run", qa_run, "--story-file", "/dev/zero", "--question", "where is mary?")
    assert result.exit_code == 1 and "is larger than 256 KiB" in one_line(result.output)


@pytest.mark.parametrize("options, words", [
    (["--story", "Mary went home.", "--story-file", "/dev/null", "--question", "where is mary?"],
     "both --story and --story-file give the story"),
    (["--context", "mary moved to the", "--question", "where is mary?"], "give one or the other"),
])
def test_options_that_would_be_dropped_are_refused(qa_run, options, words):
    result = invoke("predict", "--run", qa_run, *options)
    assert result.exit_code == 1 and words in one_line(result.output)
