"""Time the LSTM question answerer (workloads 3 and 4 of ``bench.py``, minigrad
only) with the LSTM picking its table rows itself against the two-op path it
replaced: the rows gathered into a (T, B, 4H) array by the embedding op, then
copied by the LSTM.

    .venv/bin/python scripts/bench_lstm_rows.py [--repeat 9]

Both paths run in this one process, alternating epoch by epoch (the order
flips every repetition), with one BLAS thread and with two; the ratio is the
median over repetitions of the new path's epoch over the old one's.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench_workloads as W  # noqa: E402
from minigrad.backend import keep_freed_memory  # noqa: E402
from minigrad.nn.recurrent import LSTMCell, _ProjectedCell  # noqa: E402

PATHS = {"rows picked by the LSTM": LSTMCell.run_on_table, "gathered, then copied": _ProjectedCell.run_on_table}


def time_paths(runner, repeat):
    """{path: [seconds per epoch]}, the paths alternating."""
    times = {name: [] for name in PATHS}
    for rep in range(repeat):
        for name in list(PATHS) if rep % 2 == 0 else list(PATHS)[::-1]:
            LSTMCell.run_on_table = PATHS[name]
            start = time.perf_counter()
            runner.unit()
            times[name].append(time.perf_counter() - start)
    LSTMCell.run_on_table = PATHS["rows picked by the LSTM"]
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="epochs per path and setting (4 at hidden 512)")
    args = parser.parse_args()
    keep_freed_memory()  # as minigrad train and bench.py run
    data = W.qa_data()
    new, old = PATHS
    for hidden, repeat in ((100, args.repeat), (512, max(2, args.repeat // 2))):
        for threads in (1, 2):
            with threadpool_limits(threads, "blas"):
                runner = W.minigrad_qa(hidden, data=data)
                runner.warmup()
                times = time_paths(runner, repeat)
            ratio = statistics.median(a / b for a, b in zip(times[new], times[old]))
            print(f"hidden {hidden}, {threads} thread(s): {new} {statistics.median(times[new]):.3f} s, "
                  f"{old} {statistics.median(times[old]):.3f} s an epoch; ratio {ratio:.3f}", flush=True)


if __name__ == "__main__":
    main()
