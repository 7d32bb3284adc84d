"""A reference query-reduction network in PyTorch, for checking minigrad's QRN.

Benchmark-only: nothing in minigrad or its tests imports this, and this
imports nothing from minigrad. It follows the authors' released TensorFlow
code for bAbI (seominjoon/qrn, ``babi/model.py``, ``babi/main.py``,
``babi/base_model.py``, ``prepro.py``) rather than the paper's prose,
written anew:

* data: words are runs of letters, digits and '_' (punctuation dropped,
  case kept unless ``--lowercase``); a question's story is every statement of its story before it
  (earlier questions are not statements), the last ``mem_size`` of them,
  in slots 0..n-1 with the empty slots after; mem_size is the longest story
  of the task (train and test), at most 50; the vocabulary is every word of
  the task's train and test files; the dev set is a random 10% of the
  training questions;
* position encoding l_jk = (1 - k/d) + (j/J)(2k/d - 1), with J the longest
  statement or question of the task (the same J for every sentence);
* initialisation: A and the gate weights U(-sqrt 3, sqrt 3); the candidate
  and answer weights TensorFlow's old default (uniform unit scaling,
  U(-sqrt(3/n_in), sqrt(3/n_in))); biases 0; the answer layer has none;
* the unit: z = mask * sigmoid(W_z (q * x) + b_z - 2.5), reset gates
  r_f, r_b = mask * sigmoid(W_r (q * x) + b_r) (one weight matrix, two
  columns), h~ = tanh(W_h [q; x] + b_h); every layer but the last returns
  h_fwd + h_bwd (the backward pass over the filled slots only), with
  z r h~ as the input and 1 - z as the keep; the last layer runs forwards
  without reset gates; all layers share their weights; scores W_y h_M;
* training: AdaGrad (sums of squares from 0.1) at 0.5, halved every 100
  epochs, 150 epochs, shuffled full batches of 32 (the last partial batch
  of an epoch is skipped), loss = mean cross-entropy + 0.001 * sum(w^2) / 2
  over the weight matrices and A (not the biases), no clipping, no dropout;
  the test error is the last epoch's.

Run: python scripts/reference_qrn.py --task 4 --seed 0 --threads 1
"""

import argparse
import glob
import math
import os
import random
import re
import time

import numpy as np
import torch

WORD = re.compile(r"\w+")


def read_questions(path, lowercase=False):
    """[(statements before the question, question words, answer)] of one bAbI file."""
    examples, story = [], []
    with open(path) as lines:
        for line in lines:
            number, text = line.strip().split(" ", 1)
            text = text.lower() if lowercase else text
            if number == "1":
                story = []
            if "\t" in text:
                question, answer, _ = text.split("\t")
                examples.append((list(story), WORD.findall(question), answer))
            else:
                story.append(WORD.findall(text))
    return examples


def task_files(data_dir, task):
    def one(split):
        found = glob.glob(os.path.join(data_dir, f"qa{task}_*_{split}.txt"))
        if len(found) != 1:
            raise SystemExit(f"no single qa{task}_*_{split}.txt in {data_dir}")
        return found[0]
    return one("train"), one("test")


class Data:
    """A task's examples as padded id arrays, with the sizes the model needs."""

    def __init__(self, train, test, dev_fraction, rng):
        everything = train + test
        words = {w for story, q, a in everything for s in story for w in s}
        words |= {w for _, q, a in everything for w in q + [a]}
        self.word_ids = {w: i for i, w in enumerate(sorted(words))}
        self.sentence_len = max(max((len(s) for story, _, _ in everything for s in story), default=1),
                                max(len(q) for _, q, _ in everything))
        self.slots = min(max(len(story) for story, _, _ in everything), 50)
        dev = set(rng.sample(range(len(train)), int(len(train) * dev_fraction)))
        self.train = self.arrays([e for i, e in enumerate(train) if i not in dev])
        self.dev = self.arrays([e for i, e in enumerate(train) if i in dev])
        self.test = self.arrays(test)

    def arrays(self, examples):
        n, M, J = len(examples), self.slots, self.sentence_len
        x = np.zeros((n, M, J), np.int64)
        x_mask = np.zeros((n, M, J), bool)
        q = np.zeros((n, J), np.int64)
        q_mask = np.zeros((n, J), bool)
        y = np.zeros(n, np.int64)
        for i, (story, question, answer) in enumerate(examples):
            for j, sentence in enumerate(story[-M:]):
                x[i, j, :len(sentence)] = [self.word_ids[w] for w in sentence]
                x_mask[i, j, :len(sentence)] = True
            q[i, :len(question)] = [self.word_ids[w] for w in question]
            q_mask[i, :len(question)] = True
            y[i] = self.word_ids[answer]
        return [torch.from_numpy(a) for a in (x, x_mask, q, q_mask, y)]


def uniform(shape, limit):
    return torch.nn.Parameter(torch.empty(shape).uniform_(-limit, limit))


class QRN(torch.nn.Module):
    def __init__(self, vocab, d, sentence_len, layers=2, forget_bias=2.5, reset=True):
        super().__init__()
        root3 = math.sqrt(3.0)
        self.layers, self.forget_bias, self.reset = layers, forget_bias, reset
        self.A = uniform((vocab, d), root3)
        self.W_z, self.b_z = uniform((d, 1), root3), torch.nn.Parameter(torch.zeros(1))
        self.W_r, self.b_r = uniform((d, 2), root3), torch.nn.Parameter(torch.zeros(2))
        self.W_h, self.b_h = uniform((2 * d, d), math.sqrt(3.0 / (2 * d))), torch.nn.Parameter(torch.zeros(d))
        self.W_y = uniform((d, vocab), math.sqrt(3.0 / d))
        J = sentence_len
        j = torch.arange(1, J + 1, dtype=torch.float32)[:, None]
        k = torch.arange(1, d + 1, dtype=torch.float32)[None, :]
        self.register_buffer("position", (1 - k / d) + (j / J) * (2 * k / d - 1))

    def decayed(self):
        """The variables the code puts an L2 loss on: A and every weight matrix."""
        return [self.A, self.W_z, self.W_r, self.W_h, self.W_y]

    def encode(self, ids, mask):
        return (self.A[ids] * self.position * mask[..., None]).sum(-2)

    @staticmethod
    def reduce(candidate, a, keep):
        """u_t = sum_{j <= t} prod_{j < i <= t} keep_i * a_j * candidate_j, as lower-triangular products."""
        M = a.shape[1]
        lower = torch.tril(torch.ones(M, M))
        strictly = torch.tril(torch.ones(M, M), diagonal=-1)
        log_keep = torch.log(keep + 1e-9)  # (N, M, 1)
        sums = lower @ (log_keep * strictly)  # [t, j] = sum of log_keep_i over j < i <= t
        return (lower * torch.exp(sums)) @ (a * candidate)

    @staticmethod
    def flip(values, lengths):
        """Each example's first ``length`` slots in reverse order; the rest stay."""
        M = values.shape[1]
        slot = torch.arange(M)[None, :]
        index = torch.where(slot < lengths[:, None], lengths[:, None] - 1 - slot, slot)
        return torch.gather(values, 1, index[..., None].expand_as(values))

    def forward(self, x, x_mask, q, q_mask):
        m = self.encode(x, x_mask)  # (N, M, d)
        u = self.encode(q, q_mask)  # (N, d)
        filled = x_mask.any(-1).float()[..., None]  # (N, M, 1)
        lengths = filled[..., 0].sum(1).long()
        prev = u[:, None, :].expand_as(m)
        for layer in range(self.layers):
            candidate = torch.tanh(torch.cat([prev, m], -1) @ self.W_h + self.b_h)
            a = filled * torch.sigmoid((prev * m) @ self.W_z + self.b_z - self.forget_bias)
            h = self.reduce(candidate, a, 1 - a)
            if layer + 1 < self.layers:
                if self.reset:
                    r = filled * torch.sigmoid((prev * m) @ self.W_r + self.b_r)
                    rf, rb = r[..., :1], r[..., 1:]
                else:
                    rf = rb = torch.ones_like(a)
                forwards = self.reduce(candidate, a * rf, 1 - a)
                a_rev = self.flip(a, lengths)
                backwards = self.reduce(self.flip(candidate, lengths), a_rev * self.flip(rb, lengths), 1 - a_rev)
                prev = forwards + self.flip(backwards, lengths)
        return h[:, -1] @ self.W_y


def evaluate(model, arrays, batch_size=32):
    """(mean loss, accuracy) over a split."""
    model.eval()
    total, correct, n = 0.0, 0, len(arrays[-1])
    with torch.no_grad():
        for start in range(0, n, batch_size):
            x, x_mask, q, q_mask, y = (a[start:start + batch_size] for a in arrays)
            logits = model(x, x_mask, q, q_mask)
            total += torch.nn.functional.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    model.train()
    return total / n, correct / n


def train(data, args):
    model = QRN(len(data.word_ids), args.hidden, data.sentence_len, args.layers, args.forget_bias)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=args.lr, initial_accumulator_value=0.1, eps=1e-10)
    n = len(data.train[-1])
    for epoch in range(args.epochs):
        for group in optimizer.param_groups:
            group["lr"] = args.lr * 0.5 ** (epoch // 100)
        order = torch.randperm(n)
        for b in range(n // args.batch_size):  # full batches only
            index = order[b * args.batch_size:(b + 1) * args.batch_size]
            x, x_mask, q, q_mask, y = (a[index] for a in data.train)
            loss = torch.nn.functional.cross_entropy(model(x, x_mask, q, q_mask), y)
            loss = loss + args.wd * sum((w * w).sum() / 2 for w in model.decayed())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if (epoch + 1) % 10 == 0:
            dev_loss, dev_acc = evaluate(model, data.dev)
            print(f"epoch {epoch + 1}: dev loss {dev_loss:.4f}, dev error {100 * (1 - dev_acc):.1f}%", flush=True)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", default="data/babi")
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--wd", type=float, default=0.001)
    parser.add_argument("--hidden", type=int, default=50)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--forget-bias", type=float, default=2.5)
    parser.add_argument("--lowercase", action="store_true",
                        help="fold case, as minigrad does (the code keeps it: 'Yesterday' and 'yesterday' differ)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    started = time.time()
    train_path, test_path = task_files(args.data, args.task)
    train_set, test_set = (read_questions(path, args.lowercase) for path in (train_path, test_path))
    data = Data(train_set, test_set, 0.1, random.Random(args.seed))
    model = train(data, args)
    dev_loss, dev_acc = evaluate(model, data.dev)
    _, test_acc = evaluate(model, data.test)
    print(f"task {args.task} seed {args.seed}: dev loss {dev_loss:.4f}, dev error {100 * (1 - dev_acc):.1f}%, "
          f"test error {100 * (1 - test_acc):.1f}% ({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
