"""Time ``minigrad train`` on each bundled run file with 1 and 2 BLAS threads and with the default.

Each configuration trains a few epochs in a fresh process (``--threads N``,
or no option for the default); the three are run back to back, ``--repeat``
times, and the table gives each one's median wall time and its ratio to the
faster of 1 and 2 threads. ``--busy`` keeps one core busy with a spinning
process meanwhile, as a second training or any other job would.

    .venv/bin/python scripts/bench_threads.py            # quiet
    .venv/bin/python scripts/bench_threads.py --busy     # one core busy
    .venv/bin/python scripts/bench_threads.py --only babi_rnn,babi_qrn
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

# (run file, arguments that keep one measurement to seconds). Each trains on its
# whole training set for several epochs, as a real run does: the default
# measures the threads over its first batches and keeps the answer for later
# epochs, which a one-epoch cut of the data would never reach.
WORKLOADS = [
    ("babi_rnn", []),  # the whole run file: 10 epochs, under a second
    ("babi_lstm_qa", ["--epochs", "4"]),
    ("babi_memn2n", ["--epochs", "30"]),
    ("babi_memn2n_joint", ["--epochs", "31", "--set", "data.train_size=50"]),
    ("babi_gmemn2n", ["--epochs", "30"]),
    ("babi_qrn", ["--epochs", "10", "--task", "2"]),
]
CHOICES = {"1 thread": ["--threads", "1"], "2 threads": ["--threads", "2"], "default": []}


def time_run(config, arguments, out):
    command = [sys.executable, "-m", "minigrad", "train", config, *arguments, "--out", out]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="keep one core busy meanwhile")
    parser.add_argument("--only", help="run files to time, comma-separated (default: all)")
    args = parser.parse_args()
    workloads = [(config, extra) for config, extra in WORKLOADS
                 if not args.only or config in args.only.split(",")]
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        with tempfile.TemporaryDirectory() as out:
            rows = [measure(config, extra, out, args.repeat) for config, extra in workloads]
    finally:
        if spinner:
            spinner.kill()
    print(f"| run file ({'one core busy' if args.busy else 'quiet'}) | " + " | ".join(CHOICES)
          + " | default / best of 1 and 2 |")
    print("|---|" + "---:|" * (len(CHOICES) + 1))
    for config, times in rows:
        best = min(times["1 thread"], times["2 threads"])
        cells = " | ".join(f"{times[c]:.1f} s" for c in CHOICES)
        print(f"| {config} | {cells} | {times['default'] / best:.2f} |")


def measure(config, extra, out, repeat):
    samples = {choice: [] for choice in CHOICES}
    for _ in range(repeat):
        for choice, option in CHOICES.items():
            samples[choice].append(time_run(config, extra + option, out))
    return config, {choice: statistics.median(values) for choice, values in samples.items()}


if __name__ == "__main__":
    main()
