"""Where a run's metrics go besides ``metrics.csv``: TensorBoard and MLflow.

``train.loggers: [csv, tensorboard, mlflow]`` chooses them; ``csv`` is
always on. Each logger gets every metrics row as it is made and is closed
when the run ends, however it ends.

- ``tensorboard`` writes event files to ``RUN/tensorboard/`` through
  tensorboardX (``pip install 'minigrad[tensorboard]'``); ``tensorboard
  --logdir runs`` shows every run's scalars.
- ``mlflow`` records the run in an MLflow tracking store
  (``pip install 'minigrad[mlflow]'``): ``MLFLOW_TRACKING_URI`` if set, else
  ``mlflow.db`` (SQLite) beside the folder that receives the runs (with
  ``mlflow.lock``, which runs opening the store at once take in turn). The
  experiment is the run file's name, or the suite's folder for a suite's
  runs (tagged with task and seed); the resolved run file is logged as
  parameters, every row as metrics at its epoch, and the run folder as
  artifacts when the run ends. A resumed run continues its MLflow run.
"""

import fcntl
import importlib.util
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import ConfigError

# The package each logger needs, and the extra that installs it.
NEEDS = {"tensorboard": ("tensorboardX", "tensorboard"), "mlflow": ("mlflow", "mlflow")}
MLFLOW_RUN_FILE = "mlflow_run.json"


def check_installed(names):
    """Refuse, before anything trains, a logger whose package is missing."""
    for name in names:
        if name in NEEDS and importlib.util.find_spec(NEEDS[name][0]) is None:
            module, extra = NEEDS[name]
            raise ConfigError(f"train.loggers: {name} needs the {module} package, which is not installed.",
                              hint=f"pip install 'minigrad[{extra}]' (or drop {name} from train.loggers)")


class Loggers:
    """The chosen loggers of one run: ``wrap(train)`` makes every metrics row reach them."""

    def __init__(self, session):
        names = session.config.train.loggers
        check_installed(names)
        makers = {"tensorboard": TensorBoardLogger, "mlflow": MlflowLogger}
        self.loggers = [makers[name](session) for name in dict.fromkeys(names) if name in makers]

    def wrap(self, train):
        def logged_train(session, on_eval=None, **callbacks):
            def on_row(row):
                for logger in self.loggers:
                    logger.log(row)
                if on_eval:
                    on_eval(row)
            return train(session, on_eval=on_row, **callbacks)
        return logged_train

    def close(self, ended):
        """``ended``: ``finished``, ``interrupted`` or ``failed``."""
        for logger in self.loggers:
            logger.close(ended)


def _numbers(row):
    return {k: float(v) for k, v in row.items() if k != "epoch" and isinstance(v, (int, float))}


class TensorBoardLogger:
    def __init__(self, session):
        from tensorboardX import SummaryWriter

        self.writer = SummaryWriter(logdir=str(Path(session.run_dir) / "tensorboard"))

    def log(self, row):
        for name, value in _numbers(row).items():
            self.writer.add_scalar(name, value, row["epoch"])
        self.writer.flush()

    def close(self, ended):
        self.writer.close()


class MlflowLogger:
    def __init__(self, session):
        from mlflow import MlflowClient

        self.run_dir = Path(session.run_dir)
        store = Path(session.config.train.out).resolve().parent
        # A suite's workers open the store at the same moment: the first to reach a new one creates
        # its tables and the experiment, so they take turns until their run exists.
        with _one_at_a_time(store / "mlflow.lock"):
            self.client = MlflowClient(tracking_uri=os.environ.get("MLFLOW_TRACKING_URI")
                                       or f"sqlite:///{store / 'mlflow.db'}")
            self.run_id = self._continued() or self._new_run(session, store)

    def _continued(self):
        file = self.run_dir / MLFLOW_RUN_FILE
        return json.loads(file.read_text(encoding="utf-8")).get("run_id") if file.is_file() else None

    def _new_run(self, session, store):
        from ..serialization import write_text_atomic

        suite = (self.run_dir.parent / "suite.json").is_file()
        name = self.run_dir.parent.name if suite else session.config.name
        found = self.client.get_experiment_by_name(name)
        experiment = found.experiment_id if found else self.client.create_experiment(
            name, artifact_location=(store / "mlflow-artifacts" / name).as_uri())
        config = session.config
        tags = {"run_folder": str(self.run_dir)} | (
            {"suite": name, "task": str(config.data.task), "seed": str(config.train.seed)} if suite else {})
        run = self.client.create_run(experiment, run_name=self.run_dir.name, tags=tags)
        params = _flatten(config.model_dump(mode="json"))
        for start in range(0, len(params), 100):  # MLflow takes at most 100 parameters a call
            self.client.log_batch(run.info.run_id, params=[_param(k, v) for k, v in params[start:start + 100]])
        write_text_atomic(self.run_dir / MLFLOW_RUN_FILE, json.dumps({"run_id": run.info.run_id}))
        return run.info.run_id

    def log(self, row):
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(name, value, now, row["epoch"]) for name, value in _numbers(row).items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def close(self, ended):
        self.client.log_artifacts(self.run_id, str(self.run_dir))
        self.client.set_terminated(self.run_id, {"finished": "FINISHED", "interrupted": "KILLED"}.get(ended, "FAILED"))


@contextmanager
def _one_at_a_time(path):
    """Hold an exclusive lock on the file ``path`` (made if missing) while the block runs; other
    processes asking for it wait. The kernel lets go of it if the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def _param(key, value):
    from mlflow.entities import Param

    return Param(key, json.dumps(value)[:500] if not isinstance(value, str) else value[:500])


def _flatten(mapping, prefix=""):
    """``[("model.hops", 3), ...]`` for a nested mapping."""
    items = []
    for key, value in mapping.items():
        path = f"{prefix}{key}"
        items += _flatten(value, path + ".") if isinstance(value, dict) else [(path, value)]
    return items
