"""The package as pip builds it: the wheel carries the bundled run files and the bAbI tasks,
and, unpacked away from the repository, trains a bundled config by name from an empty folder."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "README.md", "src", "configs", "data"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel built, offline, from a copy of the sources (the build writes into its source tree)."""
    tree, out = tmp_path_factory.mktemp("tree"), tmp_path_factory.mktemp("wheel")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=ignore)
        else:
            shutil.copy2(source, tree / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--disable-pip-version-check", "-q", "-w", str(out), str(tree)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("minigrad-*.whl")
    return built


def test_wheel_carries_configs_data_and_every_module(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    configs = {f"minigrad/_configs/{p.name}" for p in (ROOT / "configs").glob("*.yaml")}
    tasks = {f"minigrad/_data/babi/{p.name}" for p in (ROOT / "data" / "babi").iterdir()}
    modules = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src" / "minigrad").rglob("*.py")}
    assert {"minigrad/_configs/babi_rnn.yaml", "minigrad/_configs/babi_lstm_qa.yaml"} <= configs <= names
    assert len([t for t in tasks if t.endswith(".txt")]) == 40  # 20 tasks, train and test
    assert tasks <= names and "minigrad/_data/babi/LICENSE" in names and "minigrad/_data/README.md" in names
    assert modules <= names


def run_minigrad(args, site, cwd):
    env = {key: value for key, value in os.environ.items() if key != "MINIGRAD_DATA"}
    env["PYTHONPATH"] = str(site)  # ahead of the installed checkout on sys.path
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_unpacked_wheel_trains_a_bundled_config_from_an_empty_folder(wheel, tmp_path):
    site, empty = tmp_path / "site", tmp_path / "empty"
    zipfile.ZipFile(wheel).extractall(site)
    empty.mkdir()
    where = run_minigrad(["-c", "import minigrad, minigrad.data as d; print(minigrad.__file__); print(d.data_dir())"],
                         site, empty)
    assert where.returncode == 0, where.stderr
    module, data = where.stdout.split()
    assert Path(module).is_relative_to(site) and Path(data) == site / "minigrad" / "_data" / "babi"

    trained = run_minigrad(["-m", "minigrad", "train", "babi_rnn", "--set", "train.epochs=1"], site, empty)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert (empty / "runs" / "babi_rnn" / "weights.npz").is_file()
    predicted = run_minigrad(["-m", "minigrad", "predict", "--context", "mary moved to the"], site, empty)
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stdout.startswith("next word: ")
