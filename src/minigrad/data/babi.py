"""Read the bAbI question-answering tasks into stories.

A task file holds one numbered line per sentence::

    1 Mary moved to the bathroom.
    2 John went to the hallway.
    3 Where is Mary? <TAB>bathroom<TAB>1

A question line carries its answer and the ids of the lines that support it,
separated by tabs. Ids count up within a story; a story ends where they
restart at 1. Every error names ``file:line`` so a broken file can be fixed.
"""

import os
import re
from pathlib import Path
from typing import NamedTuple

from ..errors import DataError
from . import bundled

DATA_ENV = "MINIGRAD_DATA"
NUM_TASKS = 20


class Sentence(NamedTuple):
    """A statement of a story: its line id and its tokens."""

    id: int
    tokens: tuple[str, ...]


class Question(NamedTuple):
    """A question of a story: its tokens, one-word answer and supporting line ids."""

    id: int
    tokens: tuple[str, ...]
    answer: str
    supporting: tuple[int, ...]


class Story(NamedTuple):
    """The statements and questions between two restarts of the line ids."""

    sentences: tuple[Sentence, ...]
    questions: tuple[Question, ...]

    def context(self, question):
        """The statements a question may use: those that come before it."""
        return [s for s in self.sentences if s.id < question.id]

    def lines(self):
        """Statements and questions together, in file order."""
        return sorted(self.sentences + self.questions, key=lambda line: line.id)


# ASCII digits only: str.isdigit() also accepts characters such as '²' that int() refuses,
# and a bound on the length keeps int() from refusing a huge number.
_LINE_ID = re.compile(r"[0-9]{1,9}")

# A word (letters, digits, apostrophes) or any single other visible character.
_TOKEN = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")


def tokenize(text):
    """Lower-case ``text`` and split punctuation off words: ``"Mary?"`` -> ``["mary", "?"]``."""
    return _TOKEN.findall(text.lower())


# ---- parsing -----------------------------------------------------------------------


def parse_line(text, where):
    """Parse one line (without its newline) into a ``Sentence`` or ``Question``.

    ``where`` is the ``file:line`` put at the front of error messages.
    """
    head, _, rest = text.partition(" ")
    if not _LINE_ID.fullmatch(head):
        raise DataError(f"{where}: expected a line id at the start, got {text[:40]!r}",
                        "Each line reads 'ID text', e.g. '1 Mary moved to the bathroom.'")
    line_id, fields = int(head), rest.split("\t")
    if not fields[0].strip():
        raise DataError(f"{where}: line {line_id} has no text")
    if len(fields) == 1:
        return _statement(line_id, fields[0], where)
    if len(fields) != 3:
        raise DataError(f"{where}: a question needs 3 tab-separated fields, found {len(fields)}",
                        "Write 'ID question?<TAB>answer<TAB>supporting ids'.")
    return Question(line_id, tuple(tokenize(fields[0])), _parse_answer(fields[1], where),
                    _parse_supporting(fields[2], where))


def _statement(line_id, text, where):
    """A line without tabs; one that asks something has lost its answer field."""
    if text.rstrip().endswith("?"):
        raise DataError(f"{where}: line {line_id} is a question without its answer",
                        "Write 'ID question?<TAB>answer<TAB>supporting ids', e.g. "
                        "'3 Where is Mary?<TAB>bathroom<TAB>1'.")
    return Sentence(line_id, tuple(tokenize(text)))


def _parse_answer(text, where):
    """The answer field as one token; lists such as ``apple,milk`` stay one answer."""
    answer = text.strip().lower()
    if not answer or " " in answer:
        raise DataError(f"{where}: the answer must be one word, got {text!r}")
    return answer


def _parse_supporting(text, where):
    """The supporting-fact field: line ids separated by spaces."""
    try:
        return tuple(int(n) for n in text.split())
    except ValueError:
        raise DataError(f"{where}: supporting facts must be line ids, got {text!r}") from None


MAX_LINE_CHARS = 2_000  # bAbI's lines are under 200 characters; every line is padded to the longest


def _check_length(text, where):
    if len(text) > MAX_LINE_CHARS:
        raise DataError(f"{where}: a line longer than the {MAX_LINE_CHARS:,} characters minigrad reads.",
                        "bAbI lines are under 200 characters: check that this is a bAbI task file and "
                        "that its lines have their line breaks.")


class _BoundedLines:
    """A text file's lines, each read at most ``MAX_LINE_CHARS + 1`` characters at a time, so that
    a file without line breaks is refused after a few kilobytes instead of read whole."""

    def __init__(self, file):
        self.file = file

    def __iter__(self):
        while line := self.file.readline(MAX_LINE_CHARS + 2):
            yield line


def parse_stories(lines, source="<text>"):
    """Group lines into stories; a story ends where the line ids restart at 1.

    Args:
        lines: the file's lines (trailing newlines are ignored, blank lines skipped).
        source: the file name used in error messages.
    Returns:
        A list of ``Story``.
    """
    stories, current = [], []
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if not text.strip():
            continue
        where = f"{source}:{number}"
        _check_length(text, where)
        line = parse_line(text, where)
        if line.id == 1 and current:
            stories.append(_make_story(current))
            current = []
        _check_order(line, current, where)
        current.append(line)
    if current:
        stories.append(_make_story(current))
    return stories


def _check_order(line, previous, where):
    """Ids must count up by one, and supporting facts must point back into the story."""
    expected = previous[-1].id + 1 if previous else 1
    if line.id != expected:
        raise DataError(f"{where}: line id {line.id} out of order, expected {expected}",
                        "Ids count up from 1 within a story; 1 starts a new story.")
    if isinstance(line, Question):
        for ref in line.supporting:
            if not 1 <= ref < line.id:
                raise DataError(f"{where}: supporting fact {ref} is not an earlier line of this story")


def _make_story(lines):
    sentences = tuple(line for line in lines if isinstance(line, Sentence))
    questions = tuple(line for line in lines if isinstance(line, Question))
    return Story(sentences, questions)


def load_stories(path):
    """Read a task file into a list of ``Story``; problems raise ``DataError``."""
    path = Path(path)
    try:
        # utf-8-sig: a byte-order mark, as some editors write, is not part of the first line
        with open(path, encoding="utf-8-sig") as f:
            stories = parse_stories(_BoundedLines(f), source=str(path))
    except FileNotFoundError:
        raise DataError(f"data file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read data file {path}: {e}") from None
    if not stories:
        raise DataError(f"{path}: the file has no lines to learn from",
                        "A task file holds numbered lines such as '1 Mary moved to the bathroom.'")
    return stories


# ---- finding a task's files ----------------------------------------------------------


def data_dir():
    """The folder holding the task files: ``$MINIGRAD_DATA``, else the bundled ``babi/`` folder."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    return bundled.folder("data") / "babi"


def task_names():
    """The short names of the tasks in the data folder, in task order: ``qa1`` ... ``qa20``."""
    found = {p.name.split("_")[0] for p in data_dir().glob("qa*_*_train.txt")}
    return sorted(found, key=lambda name: int(name[2:]) if name[2:].isdigit() else 0)


def resolve_task(task, split="train"):
    """The path of one split of a task.

    Args:
        task: a task number (``1`` or ``"1"``), a short name (``"qa1"``), or the
            path of a training file in the bAbI format; its test file is the one
            beside it with ``_test`` in place of ``_train``.
        split: ``"train"`` or ``"test"``.
    Returns:
        The ``Path`` of an existing file.
    Raises:
        DataError: the task is unknown or its file is missing.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if isinstance(task, os.PathLike) or _looks_like_path(task):
        return _split_of_file(Path(task), split)
    return _named_task_file(str(task).strip().lower(), split)


def _looks_like_path(task):
    return isinstance(task, str) and ("/" in task or os.sep in task or task.endswith(".txt"))


def _split_of_file(path, split):
    if split == "test":
        if "_train" not in path.name:
            raise DataError(f"cannot find the test file for {path}: its name has no '_train'",
                            "Name it '<task>_train.txt', with '<task>_test.txt' beside it.")
        path = path.with_name(path.name.replace("_train", "_test"))
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    return path


def _named_task_file(name, split):
    number = name[2:] if name.startswith("qa") else name
    if not (number.isdigit() and 1 <= int(number) <= NUM_TASKS):
        raise DataError(f"unknown task {name!r}",
                        f"Use a number 1-{NUM_TASKS}, a name qa1-qa{NUM_TASKS}, or the path of a "
                        "'*_train.txt' file.")
    folder = data_dir()
    matches = sorted(folder.glob(f"qa{int(number)}_*_{split}.txt"))
    if not matches:
        raise DataError(f"no {split} file for task qa{int(number)} in {folder}",
                        f"Put the bAbI task files there, or point {DATA_ENV} at their folder.")
    return matches[0]


def load_task(task, split="train", punctuation="keep"):
    """The stories of one split of a task; ``punctuation="strip"`` drops every sentence's '.' and '?'."""
    stories = load_stories(resolve_task(task, split))
    return strip_punctuation(stories) if punctuation == "strip" else stories


PUNCTUATION = frozenset(".?!")


def strip_punctuation(stories):
    """The stories with the sentence-ending marks taken out of every statement and question."""
    def words(tokens):
        return tuple(w for w in tokens if w not in PUNCTUATION)

    return [Story(tuple(s._replace(tokens=words(s.tokens)) for s in story.sentences),
                  tuple(q._replace(tokens=words(q.tokens)) for q in story.questions)) for story in stories]
