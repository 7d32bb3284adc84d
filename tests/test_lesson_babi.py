"""The lesson's bAbI experiment, as the lesson writes it, on minigrad.

The import line, the data path and one number differ from the lesson's code.
The number is the learning rate. The lesson's cross-entropy backward returns
softmax - one_hot without dividing by the batch size, so its gradient is 100
times the gradient of the mean loss it reports, and its ``alpha=0.05`` acts
as 5.0. minigrad's gradient is the true one, so the same run needs
``alpha=0.05 * batch_size``; with it the losses and accuracies follow the
lesson's printout (loss 1.70, 1.50, 1.39, 1.36 every 200 iterations, accuracy
at predicting the last word rising to the mid-thirties).

The second test runs the lesson's program with only an import line added,
``from minigrad.lesson import ...``: the lesson's names keep its gradient, so
its own ``alpha=0.05`` reaches its 37%.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from minigrad import CrossEntropyLoss, Embedding, RNNCell, SGD, Tensor

TASK1 = Path(__file__).resolve().parents[1] / "data" / "babi" / "qa1_single-supporting-fact_train.txt"


def test_lesson_babi_loop_reaches_the_lessons_accuracy():
    np.random.seed(0)
    f = open(TASK1, "r")
    raw = f.readlines()
    f.close()

    tokens = list()
    for line in raw[0:1000]:
        tokens.append(line.lower().replace("\n", "").split(" ")[1:])

    new_tokens = list()
    for line in tokens:
        new_tokens.append(["-"] * (6 - len(line)) + line)
    tokens = new_tokens

    vocab = set()
    for sent in tokens:
        for word in sent:
            vocab.add(word)
    vocab = sorted(vocab)  # the lesson's list(set) order varies from run to run; sorting fixes it
    word2index = {}
    for i, word in enumerate(vocab):
        word2index[word] = i

    indices = list()
    for line in tokens:
        idx = list()
        for w in line:
            idx.append(word2index[w])
        indices.append(idx)
    data = np.array(indices)

    embed = Embedding(vocab_size=len(vocab), dim=16)
    model = RNNCell(n_inputs=16, n_hidden=16, n_output=len(vocab))
    criterion = CrossEntropyLoss()
    params = model.get_parameters() + embed.get_parameters()
    optimizer = SGD(parameters=params, alpha=0.05 * 100)  # the lesson's effective rate (see above)

    losses = []
    for iter in range(1000):
        batch_size = 100
        total_loss = 0
        hidden = model.init_hidden(batch_size=batch_size)
        for t in range(5):
            input = Tensor(data[0:batch_size, t], autograd=True)
            rnn_input = embed.forward(input=input)
            output, hidden = model.forward(input=rnn_input, hidden=hidden)
        target = Tensor(data[0:batch_size, t + 1], autograd=True)
        loss = criterion.forward(output, target)
        loss.backward()
        optimizer.step()
        total_loss += loss.data
        losses.append(float(total_loss))
    p_correct = (target.data == np.argmax(output.data, axis=1)).mean()

    # At this rate single iterations are noisy, so compare the mean loss of the
    # 50 iterations around each point the lesson printed.
    lesson_losses = [1.7030485013740324, 1.4961780443925604, 1.390113005612828, 1.3628065998222028]
    ours = [np.mean(losses[i - 25 : i + 25]) for i in (200, 400, 600, 800)]
    assert np.allclose(ours, lesson_losses, rtol=0.15), ours
    assert p_correct >= 0.33


# ---- the lesson's program as written, on minigrad.lesson ----------------------------------

# The lesson's three cells (data, model, training loop), with one line added:
# the import of its names from minigrad.lesson.
BABI_PROGRAM = '''
from minigrad.lesson import Tensor, Embedding, RNNCell, CrossEntropyLoss, SGD
import sys, random, math
from collections import Counter
import numpy as np

f = open('static/data/tasksv11/en/qa1_single-supporting-fact_train.txt', 'r')
raw = f.readlines()
f.close()

tokens = list()
for line in raw[0:1000]:
    tokens.append(line.lower().replace("\\n", "").split(" ")[1:])

new_tokens = list()
for line in tokens:
    new_tokens.append(['-'] * (6 - len(line)) + line)
tokens = new_tokens

vocab = set()
for sent in tokens:
    for word in sent:
        vocab.add(word)

vocab = list(vocab)

word2index = {}
for i, word in enumerate(vocab):
    word2index[word] = i

def words2indices(sentence):
    idx = list()
    for word in sentence:
        idx.append(word2index[word])
    return idx

indices = list()
for line in tokens:
    idx = list()
    for w in line:
        idx.append(word2index[w])
    indices.append(idx)

data = np.array(indices)

embed = Embedding(vocab_size=len(vocab), dim=16)
model = RNNCell(n_inputs=16, n_hidden=16, n_output=len(vocab))

loss = CrossEntropyLoss()
params = model.get_parameters() + embed.get_parameters()
optimizer = SGD(parameters=params, alpha=0.05)

for iter in range(1000):
    batch_size = 100
    total_loss = 0

    hidden = model.init_hidden(batch_size=batch_size)

    for t in range(5):
        input = Tensor(data[0:batch_size, t], autograd=True)
        rnn_input = embed.forward(input=input)
        output, hidden = model.forward(input=rnn_input, hidden=hidden)

    target = Tensor(data[0:batch_size, t+1], autograd=True)
    l = loss.forward(output, target)
    l.backward()
    optimizer.step()
    total_loss += l.data
    if (iter % 200 == 0):
        p_correct = (target.data == np.argmax(output.data, axis=1)).mean()
        print_loss = total_loss / (len(data) / batch_size)
        print("Loss:", print_loss, "% Correct: ", p_correct)
'''

# Runs the program from a fixed starting point and reports, after the
# printout, the accuracy on the training batch once the loop has ended.
RUNNER = '''
import json, runpy, numpy as np
np.random.seed(0)
ns = runpy.run_path("lesson_babi.py")
print(json.dumps(float((ns["target"].data == np.argmax(ns["output"].data, axis=1)).mean())))
'''


def _run_lesson_babi(workdir):
    """Run BABI_PROGRAM where its data path exists; return (printed lines, final accuracy)."""
    data_dir = workdir / "static" / "data" / "tasksv11" / "en"
    data_dir.mkdir(parents=True)
    (data_dir / TASK1.name).symlink_to(TASK1)
    (workdir / "lesson_babi.py").write_text(BABI_PROGRAM)
    # The vocabulary's order is list(set), which follows the string hash: fix it.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run([sys.executable, "-c", RUNNER], cwd=workdir, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    *lines, accuracy = done.stdout.splitlines()
    return lines, json.loads(accuracy)


@pytest.mark.skipif(sys.hash_info.algorithm != "siphash13",
                    reason="the expected figures were measured with Python 3.11's string hash")
def test_lessons_babi_program_on_minigrad_lesson_reaches_the_lessons_accuracy(tmp_path):
    # The lesson's own printout (0.421, 0.170, ... 0.136) came from a notebook
    # whose random state and hash order it does not record. Run from seed 0
    # with PYTHONHASHSEED=0, the lesson's code prints the figures below; it
    # learns the same way here (the gradient of the summed loss) and reaches
    # the 37% the lesson reports. Rounding differs in the last bits (minigrad
    # fuses the cell into one op), and over hundreds of steps that grows to a
    # fraction of a percent, so later losses are compared loosely.
    lines, accuracy = _run_lesson_babi(tmp_path)
    printed = [line.split() for line in lines]
    assert [(words[0], words[2], words[3]) for words in printed] == [("Loss:", "%", "Correct:")] * 5
    losses = [float(words[1]) for words in printed]
    correct = [float(words[4]) for words in printed]
    lessons_code = [0.4858141536702524, 0.17336379148069408, 0.16100026777539372,
                    0.14294804649323511, 0.13618134399612783]
    np.testing.assert_allclose(losses[:2], lessons_code[:2], rtol=1e-12)
    np.testing.assert_allclose(losses[2:], lessons_code[2:], rtol=0.01)
    assert correct[:3] == [0.0, 0.3, 0.32]
    np.testing.assert_allclose(correct[3:], [0.36, 0.37], atol=0.011)
    assert accuracy >= 0.37
