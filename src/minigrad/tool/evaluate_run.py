"""``minigrad evaluate``: a saved run's loss, accuracy and error on bAbI-format files.

By default a run is scored on the test split of each of its tasks (one row
per task for a run on several, and their pooled figures), cut to its
``data.test_size`` as training cut it, so the figures match its metrics.
``--task N`` scores the test split of task N; ``--data FILE`` any file in
the bAbI format, whole. The file is read as training reads it (the same
messages for a damaged line) and encoded with the run's vocabulary and
lengths; a word the run never saw counts as ``<unk>``.
"""

from dataclasses import dataclass
from pathlib import Path

from ..data import resolve_task
from ..data.babi import load_stories, strip_punctuation
from ..data.joint import task_list, task_name
from ..data.lm import LMDataset
from ..data.memory import MemoryDataset
from ..data.qa import QADataset
from ..data.splits import punctuation
from ..errors import ConfigError, DataError
from .config.task_option import check_task_option
from .evaluation import evaluate_sums
from .predict import Predictor
from .session import _EXAMPLES
from .suite.report import error


@dataclass
class Score:
    """One file's figures: mean loss, accuracy, error (%), and how many examples and targets."""

    name: str
    file: str
    examples: int
    targets: int
    loss: float
    accuracy: float

    @property
    def error(self):
        return error(self.accuracy)

    def as_dict(self):
        return dict(task=self.name, file=self.file, examples=self.examples, targets=self.targets,
                    loss=self.loss, accuracy=self.accuracy, error=self.error)


@dataclass
class Evaluation:
    run_dir: Path
    weights: str  # which weights were scored, in words
    scores: list  # one Score per task or file
    pooled: Score = None  # all of them together, when there are several


def evaluate_run(run, task=None, data_file=None, weights="best"):
    """Score a run folder's ``weights`` (best or last) on its tasks' test files, ``task``'s, or ``data_file``."""
    if task is not None and data_file is not None:
        raise ConfigError("give --task or --data, not both.",
                          hint="--task N scores task N's test file; --data FILE any bAbI-format file.")
    check_task_option(task, command="evaluate")
    predictor = Predictor.load(run, weights)
    config = predictor.config
    sources = _sources(config, task, data_file)
    scores = [_score(predictor, name, path, limit) for name, path, limit in sources]
    pooled = None
    if len(scores) > 1:
        examples, targets = sum(s.examples for s in scores), sum(s.targets for s in scores)
        loss = sum(s.loss * s.targets for s in scores) / max(targets, 1)
        right = sum(s.accuracy * s.targets for s in scores)
        pooled = Score("all", "", examples, targets, loss, right / max(targets, 1))
    return Evaluation(predictor.run_dir, predictor.weights, scores, pooled)


def _sources(config, task, data_file):
    """(name, file, the most examples to read) of each file to score."""
    if data_file is not None:
        return [(Path(data_file).name, Path(data_file), None)]
    tasks = [task] if task is not None else task_list(config.data.task) or [config.data.task]
    tasks = [int(t) if isinstance(t, str) and t.isascii() and t.isdigit() else t for t in tasks]
    return [(task_name(t), resolve_task(t, "test"), config.data.test_size) for t in tasks]


def _score(predictor, name, path, limit):
    config, meta, vocab = predictor.config, predictor.meta, predictor.vocab
    stories = load_stories(path)
    if punctuation(config.data) == "strip":
        stories = strip_punctuation(stories)
    if predictor.mode == "lm":
        dataset = LMDataset.from_stories(stories, vocab, config.data.max_len, limit)
    elif predictor.mode == "qa":
        dataset = QADataset.from_stories(stories, vocab, meta["story_len"], meta["question_len"], limit)
    else:
        dataset = MemoryDataset.from_stories(stories, vocab, predictor.memory_size, meta["sentence_len"],
                                             limit, slots=meta.get("slots"))
    if len(dataset) == 0:
        lack, hint = _EXAMPLES[predictor.mode]
        raise DataError(f"{path}: nothing to evaluate in mode {predictor.mode}: {lack}.", hint)
    total_loss, targets, right = evaluate_sums(predictor.model, dataset, config)
    return Score(name, str(path), len(dataset), targets, total_loss / max(targets, 1), right / max(targets, 1))
