"""The names the README shows keep working, wherever the code behind them lives."""

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad

# ``from minigrad import ...`` of every name the README's library section uses.
TOP_LEVEL = [
    "Tensor", "concat", "stack", "no_grad", "is_grad_enabled", "save", "load",
    "Module", "Parameter", "Linear", "Sequential", "Tanh", "Sigmoid", "ReLU", "Embedding", "Dropout",
    "RNNCell", "LSTMCell", "GRUCell", "RNN", "MSELoss", "CrossEntropyLoss",
    "SGD", "Adam", "Adagrad", "clip_grad_norm", "nn", "optim", "functional",
]

# Names reached through a module: (module, names).
IN_MODULES = [
    ("minigrad.nn", ["Linear", "Sequential", "Tanh", "Sigmoid", "ReLU", "Embedding", "Dropout", "RNNCell",
                     "LSTMCell", "GRUCell", "RNN", "MSELoss", "CrossEntropyLoss", "Module", "Parameter"]),
    ("minigrad.optim", ["SGD", "Adam", "Adagrad", "clip_grad_norm"]),
    ("minigrad.lesson", ["Tensor", "Layer", "Linear", "Sequential", "Tanh", "Sigmoid", "Embedding", "RNNCell",
                         "LSTMCell", "MSELoss", "CrossEntropyLoss", "SGD", "LessonCrossEntropy"]),
    ("minigrad.gradcheck", ["gradcheck", "all_cases", "check_case", "Case", "Trial", "GradcheckError"]),
    ("minigrad.viz", ["graph", "build", "record_gradients"]),
    ("minigrad.backend", ["keep_freed_memory"]),
    ("minigrad.ops.memory", ["ZeroRow", "EmbeddingBag", "MaskedSoftmax"]),
    ("minigrad.data", ["build_datasets", "build_vocabulary", "load_task", "Vocabulary", "PAD_ID"]),
    ("minigrad.models", ["build_model", "LanguageModel", "QuestionAnswerer", "memn2n"]),
]


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_from_minigrad_import(name):
    assert getattr(minigrad, name) is not None


@pytest.mark.parametrize("module, names", IN_MODULES, ids=[m for m, _ in IN_MODULES])
def test_names_in_modules(module, names):
    found = importlib.import_module(module)
    missing = [n for n in names if not hasattr(found, n)]
    assert not missing, f"{module} lacks {missing}"


def test_the_readme_example_trains():
    import numpy as np
    from minigrad import MSELoss, SGD, Linear, Sequential, Sigmoid, Tanh, Tensor

    np.random.seed(0)
    x = Tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), autograd=True)
    y = Tensor(np.array([[0], [1], [0], [1]]), autograd=True)
    model = Sequential([Linear(2, 3), Tanh(), Linear(3, 1), Sigmoid()])
    criterion, optimizer = MSELoss(), SGD(parameters=model.get_parameters(), alpha=1)
    losses = []
    for _ in range(10):
        loss = criterion.forward(model.forward(x), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.data.sum()))  # the lesson's MSELoss sums over the batch: shape (1,)
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("command", [[sys.executable, "-m", "minigrad", "--help"], ["minigrad", "--help"]],
                         ids=["python -m minigrad", "console script"])
def test_the_command_line_starts(command):
    if command[0] == "minigrad":  # the console script beside this interpreter, else the one on PATH
        beside = Path(sys.executable).with_name("minigrad")
        command = [str(beside) if beside.exists() else shutil.which("minigrad"), *command[1:]]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "train" in done.stdout and "suite" in done.stdout
