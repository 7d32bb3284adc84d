"""A suite worker's side: ``python -m minigrad.tool.suite.serve`` trains the runs it is sent.

``workers.Worker`` starts this module as a child process and writes one run
a line to its stdin; the child answers each with the exit code that
``minigrad train`` with those arguments had.
"""

import json
import os
import signal
import sys
import threading
import time

from ..cli import app
from ..training import Interrupted


def serve():
    """A worker's loop: read one run a line from stdin, train it, answer its exit code on stdout.

    The run's output (what ``minigrad train`` prints) goes to its log file:
    file descriptors 1 and 2 are pointed there for the run, so nothing
    written by any library can reach the answers.
    """
    answers = os.fdopen(os.dup(1), "w")
    # The suite stops a run with SIGINT, which a suite started in the background would pass on ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=_end_with, args=(os.getppid(),), daemon=True).start()
    for line in sys.stdin:
        job = json.loads(line)
        with open(job["log"], "a", encoding="utf-8") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            code = _exit_code(lambda: app(args=job["arguments"], prog_name="minigrad"))
            sys.stdout.flush(), sys.stderr.flush()
        answers.write(json.dumps({"code": code}) + "\n")
        answers.flush()


PARENT_CHECK_S = 1.0  # how often a worker looks whether the suite that started it is still there
PARENT_GONE_GRACE_S = 60.0  # time left to the run it stops to save its checkpoint


def _end_with(parent):
    """Stop this worker once the suite that started it is gone (``kill -9`` of the suite, say).

    The worker runs in a session of its own, so nothing else would stop it:
    its run would go on writing to a folder that the suite, started again,
    resumes. Ctrl-C to itself ends the run as a user's Ctrl-C would, its last
    epoch saved; the worker then finds its input closed and ends.
    """
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(PARENT_GONE_GRACE_S)
    os._exit(1)  # the run did not stop in time


def _exit_code(command):
    """The exit code of a command-line call that ends with SystemExit (0 if it returns)."""
    try:
        command()
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except KeyboardInterrupt:
        return Interrupted.exit_code
    return 0


if __name__ == "__main__":
    serve()
