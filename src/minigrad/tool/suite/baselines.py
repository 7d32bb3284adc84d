"""The published columns a suite prints beside its own (``baselines.yaml``), checked, and which to show.

A column gives each task's test error as its source prints it, and the
source's own summary: the mean error over the 20 tasks and, where printed,
the number of failed tasks (error above 5%). ``load_baselines`` recomputes
both from the tasks and refuses a column whose figures do not give them, so
a mistyped figure cannot pass. A column whose source prints only some tasks
says ``partial: true``; its missing tasks show as ``n/a``, and the mean and
failed rows of a table of all 20 tasks show the printed summary instead.

``choose`` picks the columns a suite shows: those ``--columns`` names, or a
default for the run file's model (``DEFAULTS``).
"""

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ...errors import ConfigError
from ..config.wording import did_you_mean

BASELINES = Path(__file__).resolve().parent / "baselines.yaml"
TASKS = list(range(1, 21))
PASS_LIMIT = 5.0  # percent: a task whose test error is above this is failed


@dataclass(frozen=True)
class Baseline:
    """A published column: per-task test errors (%), where they come from, and the printed summary."""

    key: str
    label: str
    source: str
    errors: dict
    mean: float = None  # the mean over the 20 tasks, as printed
    failed: int = None  # the failed tasks, as printed (None where the source prints no count)
    partial: bool = field(default=False)  # the source gives only some tasks' errors

    def covers(self, tasks):
        return all(task in self.errors for task in tasks)


def load_baselines(path=BASELINES):
    """The published columns in ``path``, each checked against its printed mean and failed count."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the published results in {path}: {exc}") from None
    return [_column(path, number, column or {}) for number, column in enumerate(data.get("columns") or [], start=1)]


def _column(path, number, column):
    errors = {int(task): float(value) for task, value in (column.get("errors") or {}).items()}
    complete = sorted(errors) == TASKS
    partial = column.get("partial") is True and errors and set(errors) < set(TASKS)
    if not (column.get("key") and column.get("source") and (complete or partial)):
        raise ConfigError(f"{path}: column {number} needs a key, a source and the errors of tasks 1-20 "
                          "(or of some of them, with partial: true).")
    baseline = Baseline(column["key"], column.get("label", column["key"]), column["source"], errors,
                        column.get("mean"), column.get("failed"), bool(partial))
    problem = _summary_problem(baseline)
    if problem:
        raise ConfigError(f"{path}: column {baseline.key}: {problem}; a figure is mistyped.")
    return baseline


def _summary_problem(b):
    """What in a column's figures contradicts its printed mean or failed count, or None."""
    if not isinstance(b.mean, (int, float)):
        return "give the mean its source prints"
    failed = sum(e > PASS_LIMIT for e in b.errors.values())
    slack = 0.5 * 10.0 ** -_decimals(b.mean) + 1e-9  # the printed mean is rounded to its last decimal
    if b.partial:  # the tasks given can only bound the printed figures
        if sum(b.errors.values()) > len(TASKS) * (b.mean + slack):
            return f"the tasks given already add up to more than a mean of {b.mean:g}"
        if b.failed is not None and failed > b.failed:
            return f"{failed} of the tasks given fail, more than the {b.failed} printed"
        return None
    mean = sum(b.errors.values()) / len(TASKS)
    if abs(mean - b.mean) > slack:
        return f"the tasks' mean is {mean:.3f}, not the {b.mean:g} printed"
    if b.failed is not None and failed != b.failed:
        return f"{failed} tasks fail, not the {b.failed} printed"
    return None


def _decimals(value):
    """The decimals a printed figure has: as written, and at least one (YAML reads 12.0 as 12)."""
    return max(1, len(repr(float(value)).split(".")[1]))


# ---- which columns a suite shows ---------------------------------------------------------------

# The columns shown by default, by the run file's model: the paper each reproduces, and its neighbours.
DEFAULTS = {
    "memn2n": ["lstm", "memn2n_pe_ls_rn", "memn2n_joint"],
    "gated": ["memn2n_pe_ls_rn", "memn2n_rerun", "gmemn2n_hop", "gmemn2n_global"],
    "qrn": ["qrn", "memn2n_pe_ls_rn", "ut_act"],
    "recurrent": ["lstm", "memn2n_pe_ls_rn"],
    "sequential": ["lstm", "memn2n_pe_ls_rn"],
    "class": ["memn2n_pe_ls_rn", "gmemn2n_hop", "qrn", "ut_act"],
}
ALL = "all"


def default_columns(model):
    """The default column keys for a run file's ``model`` section."""
    gated = getattr(model, "gates", "none") != "none"
    return DEFAULTS["gated" if gated else model.type]


def parse_columns(text, baselines):
    """``--columns a,b`` as a list of keys (``all``: every column); an unknown key names the valid ones."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    known = [b.key for b in baselines]
    if keys == [ALL]:
        return known
    if not keys:
        raise ConfigError("--columns: give the keys of the published columns to show, separated by commas.",
                          hint=f"Valid keys: {', '.join(known)}, or {ALL}.")
    for key in keys:
        if key not in known:
            raise ConfigError(f"--columns: unknown column {key!r}{did_you_mean(key, known)}",
                              hint=f"Valid keys: {', '.join(known)}, or {ALL}; separate them with commas.")
    return list(dict.fromkeys(keys))


def choose(baselines, keys):
    """The baselines named by ``keys``, in that order."""
    by_key = {b.key: b for b in baselines}
    return [by_key[key] for key in keys if key in by_key]
