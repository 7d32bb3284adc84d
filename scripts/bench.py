"""Time minigrad against PyTorch (CPU) on the models minigrad is made for.

    python scripts/bench.py [--quick] [--only 1,3] [--accuracy] [--profile 4] [--json out.json]

Workloads (one iteration = forward + backward + optimizer step):

1. the lesson's experiment: Embedding(vocab, 16) + RNNCell(16, 16, vocab)
   (sigmoid), batch 100, 5 steps, cross-entropy on the last step, SGD 0.05;
   time per iteration. The data is the lesson's: the first 1000 lines of
   bAbI task 1, left-padded with '-' to 6 tokens, rows 0-99.
2. the same unrolled 50 steps: rows of 51 tokens cut from the lesson's
   padded lines read one after another as one stream of text.
3. question answering on bAbI task 1 with minigrad's QuestionAnswerer
   (LSTM, embedding 50, hidden 100), Adam 1e-3, batch 32; time per epoch
   over the 1000 training questions (32 batches, stories left-padded to 66
   tokens). PyTorch runs the same model with nn.LSTM, which on CPU runs the
   whole layer in oneDNN's fused LSTM kernel; the "no oneDNN" column runs
   nn.LSTM with oneDNN turned off (PyTorch's own per-step products and gate
   ops), and the "step-by-step" column nn.LSTMCell in a Python loop. The
   ratio is against nn.LSTM as it runs by default.
4. the same at hidden 512.
5. ``minigrad train configs/babi_rnn.yaml`` end to end in a subprocess
   (wall time; no PyTorch figure).
6. the end-to-end memory network of configs/babi_memn2n.yaml (d 20, 3 hops,
   adjacent tying, position and temporal encoding) on bAbI task 2, whose
   stories fill all 50 memory slots; time per epoch over the 900 training
   questions left after the config's 10% validation hold-out (29 batches of
   32, cut once by minigrad's ``MemoryDataset`` with 10% noise on the ages;
   both frameworks get the same numpy arrays). A step is the config's:
   softmax attention (the main phase, not the linear start), cross-entropy
   summed over the batch, each weight matrix's gradient clipped to spectral
   norm 40 on its own, plain SGD at 0.01 (all read from the config, with its task set to
   2). PyTorch runs the same model written with ``index_select`` bags
   (faster here than nn.Embedding's lookup), ``bmm`` hops and a masked softmax.
7. the query-reduction network of configs/babi_qrn.yaml (2 layers, reset
   gates, d 50, scalar gates) on bAbI task 2: time per epoch over the same
   900 questions (29 batches of 32), AdaGrad at the run file's rate and
   weight decay. PyTorch runs the same closed form (``cumsum`` of log(1 - z),
   a triangular matrix of weights per example, ``bmm``); see
   ``scripts/_bench_qrn.py``.

Each workload's frameworks run in this one process, alternating (the order
flips every repetition), after a warm-up; the table shows medians, with
±half the range over the repetitions in percent. The ratio is the median,
over repetitions, of minigrad's time over PyTorch's in the same repetition
(see ``paired_ratio``). minigrad's peak memory
(peak resident set of the whole process, see ``peak_kib``) comes from a
separate subprocess that runs only minigrad's side (2,000 iterations for
workload 1; workload 5 runs the command's code in that process), so
PyTorch's memory never counts.

Options:
    --quick         fewer repetitions, for a smoke run.
    --only N[,N]    run only these workloads (e.g. ``--only 1,2``).
    --accuracy      also train minigrad and PyTorch (nn.LSTM) for 20 epochs at
                    hidden 100 and report test accuracy on the qa1 test split;
                    with workload 6 in --only, also train both memory networks
                    for configs/babi_memn2n.yaml's whole schedule (120 epochs,
                    the first 20 a linear start) on task 1 and report test
                    error (workload 6 alone skips the LSTM).
    --profile N     print where workload N's minigrad time goes (4 by default):
                    the share of matrix products (BLAS) against everything
                    else, from sampling the running source line every 0.5 ms,
                    the busiest lines and files, and cProfile's self time
                    per file; for the QA workloads also numpy's GFLOP/s at
                    the LSTM's product shapes (``product_rates``). Any
                    workload but 5 can be profiled.
    --json PATH     also write the figures as a JSON list, one object per
                    workload: workload, minigrad_s, pytorch_s, ratio, peak_mib,
                    pytorch_step_s, pytorch_plain_s (null where a figure
                    does not apply);
                    with --accuracy, workload 3's object also has
                    minigrad_test_acc and pytorch_test_acc, and workload 6's
                    minigrad_test_error and pytorch_test_error (task 1).
    --torch-threads N
                    set PyTorch's intra-op threads (default: leave its default).

PyTorch is optional and imported only here: without it only minigrad's
figures are shown. Its thread count is left at its default and printed.
numpy's BLAS threads are whatever the environment says (OPENBLAS_NUM_THREADS);
the script reports them and the OpenBLAS variables but changes nothing.

Other processes on the machine matter more than usual: with one thread per
core (both libraries' default), a thread that loses its core to another
process stalls the rest. On a busy 2-core machine that has made PyTorch
iterations take 480 ms instead of 1 ms, and minigrad epochs 10x longer, so
when other processes are running, compare with
``OPENBLAS_NUM_THREADS=1 python scripts/bench.py --torch-threads 1``.
"""

import argparse
import json
import linecache
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable, NamedTuple, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench_workloads as W  # noqa: E402
import _bench_qrn as Q  # noqa: E402
from minigrad.backend import keep_freed_memory  # noqa: E402

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


class Spec(NamedTuple):
    label: str
    unit: str  # "iteration" or "epoch"
    repetitions: tuple  # (full, quick)
    per_repetition: tuple  # units timed together in one repetition: (full, quick)
    minigrad: Callable  # () -> Runner
    pytorch: Optional[Callable] = None  # (torch) -> Runner
    pytorch_steps: Optional[Callable] = None  # (torch) -> Runner, the step-by-step variant
    pytorch_plain: Optional[Callable] = None  # (torch) -> Runner, nn.LSTM without oneDNN
    peak_units: int = 0  # units run in the peak-memory subprocess
    hidden: int = 0  # the LSTM's hidden size, for the QA workloads


WORKLOADS = {
    1: Spec("1 lesson RNN, 5 steps, batch 100 (per iteration)", "iteration", (7, 3), (200, 20),
            lambda: W.minigrad_lesson(5), lambda torch: W.pytorch_lesson(torch, 5), peak_units=2000),
    2: Spec("2 lesson RNN, 50 steps, batch 100 (per iteration)", "iteration", (7, 3), (40, 5),
            lambda: W.minigrad_lesson(50), lambda torch: W.pytorch_lesson(torch, 50), peak_units=200),
    3: Spec("3 LSTM QA, hidden 100, batch 32 (per epoch)", "epoch", (5, 1), (1, 1),
            lambda: W.minigrad_qa(100), lambda torch: W.pytorch_qa(torch, 100),
            lambda torch: W.pytorch_qa(torch, 100, fused=False),
            lambda torch: W.pytorch_qa_without_onednn(torch, 100), peak_units=1, hidden=100),
    4: Spec("4 LSTM QA, hidden 512, batch 32 (per epoch)", "epoch", (5, 1), (1, 1),
            lambda: W.minigrad_qa(512), lambda torch: W.pytorch_qa(torch, 512),
            lambda torch: W.pytorch_qa(torch, 512, fused=False),
            lambda torch: W.pytorch_qa_without_onednn(torch, 512), peak_units=1, hidden=512),
    5: Spec("5 minigrad train configs/babi_rnn.yaml (wall)", "run", (5, 1), (1, 1), W.minigrad_cli),
    6: Spec("6 MemN2N, bAbI task 2, 50 memories, batch 32 (per epoch)", "epoch", (7, 3), (3, 1),
            W.minigrad_memory, W.pytorch_memory, peak_units=3),
    7: Spec("7 QRN 2r, bAbI task 2, 50 memories, batch 32 (per epoch)", "epoch", (7, 3), (3, 1),
            Q.minigrad_qrn, Q.pytorch_qrn, peak_units=3),
}


# ---- timing ------------------------------------------------------------------------------


def _seconds_per_call(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def time_workload(spec, torch, quick):
    """{"minigrad" | "pytorch" | "pytorch_step" | "pytorch_plain": [seconds per unit, one per repetition]}."""
    runners = {"minigrad": spec.minigrad()}
    if torch is not None:
        variants = {"pytorch": spec.pytorch, "pytorch_step": spec.pytorch_steps, "pytorch_plain": spec.pytorch_plain}
        runners.update({name: make(torch) for name, make in variants.items() if make is not None})
    for runner in runners.values():
        runner.warmup()
    times = {name: [] for name in runners}
    names = list(runners)
    for rep in range(spec.repetitions[quick]):
        for name in names if rep % 2 == 0 else names[::-1]:  # alternate who goes first
            times[name].append(_seconds_per_call(runners[name].unit, spec.per_repetition[quick]))
    return times


# ---- peak memory, in a process without PyTorch --------------------------------------------


def peak_kib():
    """This process's peak resident memory in KiB.

    Linux keeps ru_maxrss across fork and exec, so a child started by a large
    parent (this script with PyTorch loaded) would report the parent's size.
    VmHWM, the high-water mark of the process's own address space, does not
    carry over; ru_maxrss is the fallback where /proc is missing.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure_peak(number):
    """Child side: run workload ``number``'s minigrad loop alone; print its peak memory in KiB.

    Number 0 only imports minigrad, for the floor every process pays.
    """
    if number == 5:
        W.minigrad_cli_in_process()
    elif number:
        spec = WORKLOADS[number]
        runner = spec.minigrad()
        for _ in range(spec.peak_units):
            runner.unit()
    if "torch" in sys.modules:
        raise RuntimeError("PyTorch was imported in the peak-memory process")
    print(json.dumps({"peak_kib": peak_kib()}))


def peak_mib(number):
    """Peak resident memory (MiB) of a fresh process running workload ``number``'s minigrad side."""
    done = subprocess.run([sys.executable, __file__, "--peak-of", str(number)], capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_kib"] / 1024


# ---- report --------------------------------------------------------------------------------


def _median(values):
    return statistics.median(values) if values else None


def _duration(seconds, unit):
    """A time per ``unit``: milliseconds for an iteration, seconds for an epoch or a run."""
    return f"{seconds * 1e3:.3f} ms" if unit == "iteration" else f"{seconds:.2f} s"


def _fmt(values, unit):
    """Median with ±half the range in percent: ``0.741 ms ±3%``."""
    if not values:
        return "-"
    median = statistics.median(values)
    spread = (max(values) - min(values)) / 2 / median * 100
    return f"{_duration(median, unit)} ±{spread:.0f}%"


def paired_ratio(ours, theirs):
    """The median over repetitions of ours[i] / theirs[i], or None without both.

    The two frameworks run back to back within a repetition, so a change in
    the machine's speed that lasts longer than a repetition (on shared
    machines these run to tens of percent over minutes) slows both sides of
    each ratio alike and cancels out; a ratio of the two medians would mix
    times taken minutes apart.
    """
    if not ours or not theirs:
        return None
    return statistics.median(a / b for a, b in zip(ours, theirs))


def result_row(spec, times, peak):
    return {"workload": spec.label, "minigrad_s": _median(times.get("minigrad")),
            "pytorch_s": _median(times.get("pytorch")),
            "ratio": paired_ratio(times.get("minigrad"), times.get("pytorch")), "peak_mib": peak,
            "pytorch_step_s": _median(times.get("pytorch_step")),
            "pytorch_plain_s": _median(times.get("pytorch_plain"))}


def results_table(rows, all_times, note):
    from rich.table import Table

    table = Table(title="minigrad vs PyTorch (CPU), median time per unit", caption=note)
    for column in ("workload", "minigrad", "PyTorch", "ratio\nmg / PT", "minigrad\npeak MiB",
                   "PyTorch\nstep-by-step", "PyTorch\nno oneDNN"):
        table.add_column(column, justify="left" if column == "workload" else "right")
    for row, (spec, times) in zip(rows, all_times):
        ratio = f"{row['ratio']:.2f}" if row["ratio"] else "-"
        peak = f"{row['peak_mib']:.1f}" if row["peak_mib"] else "-"
        table.add_row(spec.label, _fmt(times.get("minigrad"), spec.unit), _fmt(times.get("pytorch"), spec.unit),
                      ratio, peak, _fmt(times.get("pytorch_step"), spec.unit),
                      _fmt(times.get("pytorch_plain"), spec.unit))
    return table


def environment_lines(torch, threads_set=False):
    """What the numbers depend on: BLAS, threads, environment variables, load."""
    import numpy as np

    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    lines = [f"python {sys.version.split()[0]}, numpy {np.__version__}, BLAS {blas.get('name', '?')} "
             f"{blas.get('version', '')} ({blas.get('openblas configuration', 'no details')})"]
    try:
        from threadpoolctl import threadpool_info

        pools = ", ".join(f"{p['internal_api']} {p['num_threads']} threads" for p in threadpool_info())
        lines.append(f"BLAS thread pools: {pools}")
    except ImportError:
        lines.append("BLAS threads: threadpoolctl not installed (numpy's BLAS uses its default)")
    set_vars = [f"{v}={os.environ[v]}" for v in OPENBLAS_VARS if v in os.environ]
    lines.append("environment: " + (", ".join(set_vars) if set_vars else f"none of {', '.join(OPENBLAS_VARS)} set"))
    if torch is None:
        lines.append("PyTorch not installed: minigrad figures only")
    else:
        lines.append(f"PyTorch {torch.__version__}, {torch.get_num_threads()} intra-op threads "
                     f"({'set by --torch-threads' if threads_set else 'its default'})")
    load = os.getloadavg()[0]
    lines.append(f"{os.cpu_count()} CPUs, load average {load:.2f} (1 min)")
    if load >= 1.0:
        lines.append("warning: other processes are using the CPUs; timings may be noisy (see the module docstring)")
    return lines


# ---- where the time goes ---------------------------------------------------------------------


def _self_time_by_file(stats):
    """Seconds spent in each source file, C calls (numpy, BLAS) counted in the file that made them.

    cProfile records a numpy function or method as its own entry; its
    per-caller times say which Python function called it. An ``@`` between
    arrays is an operator, not a call, so its time is already in its caller.
    """
    by_file = {}
    for (file, _, _), (_, _, own, _, callers) in stats.items():
        if file == "~":  # a built-in: charge each caller's share to the caller's file
            for (caller_file, _, _), caller_times in callers.items():
                by_file[caller_file] = by_file.get(caller_file, 0.0) + caller_times[2]
        else:
            by_file[file] = by_file.get(file, 0.0) + own
    return by_file


def _short(file):
    parts = Path(file).parts
    return "/".join(parts[parts.index("minigrad") + 1:]) if "minigrad" in parts else Path(file).name


# A source line that multiplies matrices: ``a @ b``, ``xp.matmul``, ``dot``, ``einsum``.
_PRODUCT = re.compile(r"@|\b(matmul|dot|einsum|tensordot)\(")


def _caller_line(frame):
    """(file, line) of the innermost frame outside numpy's own Python code."""
    while frame.f_back is not None and f"{os.sep}numpy{os.sep}" in frame.f_code.co_filename:
        frame = frame.f_back
    return frame.f_code.co_filename, frame.f_lineno


def sample_lines(fn, interval=5e-4):
    """Run ``fn()`` while another thread notes the line it is on every ``interval`` seconds.

    A numpy call in progress (a BLAS product included) shows as the line
    that made it. Returns (Counter of (file, line), seconds fn took).
    """
    main, counts, done = threading.get_ident(), Counter(), threading.Event()

    def sampler():
        while not done.wait(interval):
            frame = sys._current_frames().get(main)
            if frame is not None:
                counts[_caller_line(frame)] += 1

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # hand the GIL over often, so samples land on time
    thread = threading.Thread(target=sampler, daemon=True)
    start = time.perf_counter()
    thread.start()
    try:
        fn()
    finally:
        seconds = time.perf_counter() - start
        done.set()
        thread.join()
        sys.setswitchinterval(switch)
    return counts, seconds


def _print_products(counts, seconds):
    total = sum(counts.values()) or 1
    text = {key: linecache.getline(key[0], key[1]).split("#")[0].strip() for key in counts}
    products = sum(n for key, n in counts.items() if _PRODUCT.search(text[key]))
    print(f"sampled run: {seconds:.2f} s, {total} samples of the running line, one every 0.5 ms")
    print(f"  matrix products (lines with @, matmul, dot or einsum; BLAS): {products / total:.1%}")
    print(f"  everything else (Python, graph bookkeeping, elementwise numpy): {1 - products / total:.1%}")
    print("  busiest lines:")
    for (file, line), n in counts.most_common(8):
        print(f"    {n / total:6.1%}  {_short(file)}:{line}  {text[(file, line)][:70]}")
    by_file = Counter()
    for (file, _), n in counts.items():  # numpy's work is already charged to the line that asked for it
        by_file[file] += n
    print("  busiest files (numpy calls included): " +
          ", ".join(f"{_short(file)} {n / total:.0%}" for file, n in by_file.most_common(5)))
    return products / total


def product_rates(hidden, batch=W.QA_BATCH, steps=66, torch=None):
    """GFLOP/s of float32 matrix products at the LSTM's three product shapes.

    These set the floor under a QA epoch: no Python or elementwise work can
    make minigrad faster than its products run. Each operand has the shape
    and memory order that ``ops/sequence.py`` passes (``steps`` is the
    longest story); each rate is the best of 7 runs of 20 calls. With
    ``torch``, each value is a pair: numpy's rate, then ``torch.matmul``'s on
    the same arrays, which tells a slow product apart from a slow op around it.
    """
    import numpy as np

    rng = np.random.default_rng(0)

    def rand(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    four = 4 * hidden
    operands = {"per-step h @ W_hh": (rand(batch, hidden), rand(hidden, four)),
                "per-step W_hh @ gz.T": (rand(hidden, four), rand(batch, four).T),
                "W_hh's gradient, all steps": (rand(steps * batch, hidden).T, rand(steps * batch, four))}
    rates = {}
    for name, (a, b) in operands.items():
        flop = 2 * a.shape[0] * a.shape[1] * b.shape[1]
        rates[name] = _rate(lambda: a @ b, flop)
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)  # views: the same memory order
            rates[name] = (rates[name], _rate(lambda: torch.matmul(ta, tb), flop))
    return rates


def _rate(product, flop):
    """GFLOP/s of ``product()``, best of 7 runs of 20 calls after a warm-up."""
    product()  # warm-up: threads started, pages touched
    return flop / min(_seconds_per_call(product, 20) for _ in range(7)) / 1e9


def profile(number, quick, pytorch_s=None):
    """Print where workload ``number``'s minigrad time goes: matrix products vs the rest, and per file.

    ``pytorch_s``, PyTorch's median time per unit from this run if it was
    measured, is set beside minigrad's time in matrix products alone.
    """
    import cProfile
    import pstats

    spec = WORKLOADS[number]
    units = spec.per_repetition[quick]
    runner = spec.minigrad()
    runner.warmup()
    print(f"\nprofile of workload {spec.label}, minigrad only, {units} {spec.unit}(s) per run")
    counts, seconds = sample_lines(lambda: [runner.unit() for _ in range(units)])
    share = _print_products(counts, seconds)
    if pytorch_s:
        print(f"  minigrad's matrix products alone: {_duration(share * seconds / units, spec.unit)} per "
              f"{spec.unit}; PyTorch's whole {spec.unit} in the timed runs: {_duration(pytorch_s, spec.unit)}")
    if spec.hidden:
        torch = _import_torch()
        rates = product_rates(spec.hidden, torch=torch)
        if torch is None:
            listed = ", ".join(f"{name} {rate:.0f}" for name, rate in rates.items())
            print(f"  numpy float32 products at these shapes, GFLOP/s: {listed}")
        else:
            listed = ", ".join(f"{name} {ours:.0f} / {theirs:.0f}" for name, (ours, theirs) in rates.items())
            print(f"  float32 products at these shapes, GFLOP/s, numpy / torch.matmul: {listed}")
    profiler = cProfile.Profile()
    profiler.runcall(_seconds_per_call, runner.unit, units)
    by_file = _self_time_by_file(pstats.Stats(profiler).stats)
    total = sum(by_file.values())
    print(f"cProfile run: {total:.2f} s; self time per file, numpy calls charged to the file that made them:")
    for file, seconds in sorted(by_file.items(), key=lambda item: -item[1])[:8]:
        print(f"    {seconds / total:6.1%}  {seconds:6.2f} s  {_short(file)}")
    print("method: the product share comes from sampling, which adds almost nothing to the run; cProfile "
          "adds a cost to every Python call, so its per-file shares overstate the Python-heavy files.")


# ---- main ------------------------------------------------------------------------------------


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def run_accuracy(torch, rows, only):
    """Train the QA LSTM and, with workload 6 chosen, the memory network; print and record test scores."""
    if any(n != 6 for n in only):  # every choice without workload 6 trains the LSTM, as it always has
        run_lstm_accuracy(torch, rows)
    if 6 in only:
        run_memory_error(torch, rows)


def run_lstm_accuracy(torch, rows):
    """Train at hidden 100 for 20 epochs in both frameworks; print and record test accuracy."""
    accuracy = W.train_for_accuracy(torch, hidden=100, epochs=20)
    theirs = "-" if accuracy["pytorch"] is None else f"{accuracy['pytorch']:.3f}"
    print(f"qa1 test accuracy after 20 epochs at hidden 100: minigrad {accuracy['minigrad']:.3f}, "
          f"PyTorch nn.LSTM {theirs}")
    for row in rows:
        if row["workload"].startswith("3 "):
            row.update(minigrad_test_acc=accuracy["minigrad"], pytorch_test_acc=accuracy["pytorch"])


def run_memory_error(torch, rows):
    """Train both memory networks for the config's whole schedule on task 1; print and record test error."""
    error = W.memory_train_for_error(torch, task=1)
    theirs = "-" if error["pytorch"] is None else f"{error['pytorch']:.1%}"
    print(f"qa1 test error of the memory network after {error['epochs']} epochs "
          f"(configs/babi_memn2n.yaml): minigrad {error['minigrad']:.1%}, PyTorch {theirs}")
    for row in rows:
        if row["workload"] == WORKLOADS[6].label:
            row.update(minigrad_test_error=error["minigrad"], pytorch_test_error=error["pytorch"])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke run)")
    parser.add_argument("--only", default=",".join(map(str, WORKLOADS)), help="workloads to run, e.g. 1,3")
    parser.add_argument("--accuracy", action="store_true",
                        help="also report qa1 test accuracy (LSTM, 20 epochs; memory network with 6, 120 epochs)")
    parser.add_argument("--profile", type=int, nargs="?", const=4, default=None, metavar="N",
                        help="profile workload N's minigrad side (default 4)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--torch-threads", type=int, default=0, metavar="N",
                        help="PyTorch intra-op threads (default: PyTorch's own default)")
    parser.add_argument("--peak-of", type=int, default=None, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args(argv)
    args.only = [int(n) for n in args.only.split(",") if n.strip()]
    unknown = [n for n in args.only + ([args.profile] if args.profile else []) if n not in WORKLOADS]
    if unknown or args.profile == 5:
        parser.error(f"no workload {unknown or [5]} to run that way; choose from {list(WORKLOADS)}")
    return args


def main(argv=None):
    args = parse_args(argv)
    # As `minigrad train` does. It is process-wide, so PyTorch runs under it too.
    kept = keep_freed_memory()
    if args.peak_of is not None:
        return measure_peak(args.peak_of)
    from rich.console import Console

    console, torch = Console(), _import_torch()
    if torch is not None and args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    if not console.is_terminal:  # piped to a file: don't squeeze the table into 80 columns
        console.width = 140
    console.print("malloc: " + ("freed blocks kept for reuse (as `minigrad train` runs; both frameworks)" if kept
                                else "the C library's defaults (keep_freed_memory needs glibc)"), highlight=False)
    for line in environment_lines(torch, bool(args.torch_threads)):
        console.print(line, highlight=False)
    console.print(f"peak of a process that only imports minigrad: {peak_mib(0):.1f} MiB", highlight=False)
    rows, all_times = [], []
    for number in args.only:
        spec = WORKLOADS[number]
        console.print(f"running {spec.label} ...", highlight=False)
        times = time_workload(spec, torch, args.quick)
        rows.append(result_row(spec, times, peak_mib(number)))
        all_times.append((spec, times))
    note = (f"ratio below 1: minigrad is faster. Peak: peak resident memory of a process running minigrad "
            f"alone ({WORKLOADS[1].peak_units} iterations for workload 1). "
            f"Load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs.")
    console.print(results_table(rows, all_times, note))
    if args.accuracy:
        run_accuracy(torch, rows, args.only)
    if args.profile:
        label = WORKLOADS[args.profile].label
        profile(args.profile, args.quick, next((r["pytorch_s"] for r in rows if r["workload"] == label), None))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
