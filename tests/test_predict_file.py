"""minigrad predict --file: every question of a bAbI-format file, each from the statements before it."""

import json

from conftest import invoke, one_line

STORIES = ("1 Mary moved to the bathroom.\n2 John went to the hallway.\n3 Where is Mary?\tbathroom\t1\n"
           "4 Daniel went back to the hallway.\n5 Where is Daniel?\thallway\t4\n"
           "1 Sandra journeyed to the office.\n2 Where is Sandra?\toffice\t1\n")


def test_every_question_is_one_json_line_in_file_order(qa_run, tmp_path):
    stories = tmp_path / "stories.txt"
    stories.write_text(STORIES)
    result = invoke("predict", "--run", qa_run, "--file", stories, "--json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["story"], r["line"], r["expected"]) for r in records] == \
        [(1, 3, "bathroom"), (1, 5, "hallway"), (2, 2, "office")]
    for record in records:  # the same answer as asking the question alone
        alone = invoke("predict", "--run", qa_run, "--story", _story_before(record), "--question",
                       record["question"], "--json")
        assert json.loads(alone.output)["answer"] == record["answer"]
        assert record["correct"] == (record["answer"] == record["expected"])


def _story_before(record):
    story = STORIES.split("1 Sandra")[0] if record["story"] == 1 else "1 Sandra journeyed to the office.\n"
    lines = [line.split(" ", 1)[1] for line in story.splitlines() if "\t" not in line]
    return " ".join(lines[:{3: 2, 5: 3, 2: 1}[record["line"]]])


def test_text_output_ends_with_the_count_and_an_unknown_word_is_one_record(qa_run, tmp_path):
    stories = tmp_path / "stories.txt"
    stories.write_text(STORIES + "1 Zorblax flew to the moon.\n2 Where is Zorblax?\tmoon\t1\n")
    result = invoke("predict", "--run", qa_run, "--file", stories)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("story 1 line 3: where is mary ? -> ") and "(expected bathroom)" in lines[0]
    assert "error: unknown word" in lines[3]
    assert lines[-1].split(";")[0].endswith("/3 right, 1 not answered")


def test_file_with_a_story_option_is_refused(qa_run, tmp_path):
    stories = tmp_path / "stories.txt"
    stories.write_text(STORIES)
    result = invoke("predict", "--run", qa_run, "--file", stories, "--question", "where is mary?")
    assert result.exit_code == 1 and "--file answers the questions of a file" in one_line(result.output)
