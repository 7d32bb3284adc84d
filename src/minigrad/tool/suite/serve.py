"""A suite worker's side: ``python -m minigrad.tool.suite.serve`` trains the runs it is sent.

``workers.Worker`` starts this module as a child process and writes one run
a line to its stdin; the child answers each with the exit code that
``minigrad train`` with those arguments had.
"""

import json
import os
import sys

from ..cli import app
from ..training import Interrupted


def serve():
    """A worker's loop: read one run a line from stdin, train it, answer its exit code on stdout.

    The run's output (what ``minigrad train`` prints) goes to its log file:
    file descriptors 1 and 2 are pointed there for the run, so nothing
    written by any library can reach the answers.
    """
    answers = os.fdopen(os.dup(1), "w")
    for line in sys.stdin:
        job = json.loads(line)
        with open(job["log"], "a", encoding="utf-8") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            code = _exit_code(lambda: app(args=job["arguments"], prog_name="minigrad"))
            sys.stdout.flush(), sys.stderr.flush()
        answers.write(json.dumps({"code": code}) + "\n")
        answers.flush()


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
