"""One writer per run folder.

``train``, ``train --resume`` and each run of a suite hold ``RUN/.lock``
while they write to the folder. The lock is an advisory ``flock`` on that
file, so the kernel lets go of it when its process ends, however it ends
(``kill -9`` included): a lock is never left stale, though its file may
stay until the next writer takes it. The file also holds the
holder's process id and command, for the message a second writer gets and
for ``minigrad runs``, which shows a held folder as running.
"""

import fcntl
from contextlib import contextmanager, nullcontext
import json
import os
import sys
from pathlib import Path

from ..errors import MinigradError

LOCK_FILE = ".lock"


class RunInUse(MinigradError):
    """Another process is writing to this run folder."""

    exit_code = 2


class RunLock:
    """``RunLock(run_dir).acquire()`` holds the folder until ``release()`` (or the process ends),
    or raises ``RunInUse`` naming the holder."""

    def __init__(self, run_dir):
        self.path = Path(run_dir) / LOCK_FILE
        self.fd = None

    def acquire(self):
        for _ in range(100):  # another process may remove the file between our open and our lock
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise _in_use(self.path) from None
            if self._still_there(fd):
                os.ftruncate(fd, 0)
                os.write(fd, json.dumps({"pid": os.getpid(), "command": _command()}).encode())
                self.fd = fd
                return self
            os.close(fd)
        raise RunInUse(f"cannot lock {self.path.parent}: other processes keep taking and leaving it.")

    @contextmanager
    def released_on_error(self):
        """Let go of the folder if the block raises (a suite's worker goes on to other runs); keep it if not."""
        try:
            yield self
        except BaseException:
            self.release()
            raise

    def release(self):
        """Remove the lock file, then let go: the folder is left as it was before."""
        if self.fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None

    def _open(self):
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunInUse(f"cannot lock {self.path.parent}: {exc.strerror}.",
                           hint="Check that the folder exists and is writable.") from None

    def _still_there(self, fd):
        """Whether the file we locked is still the one at our path (a holder removes it as it leaves)."""
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False


def released_on_error(lock):
    """``lock.released_on_error()``, or nothing to release where no lock is held (MPI ranks but 0)."""
    return lock.released_on_error() if lock is not None else nullcontext()


def holder(run_dir):
    """``{"pid": ..., "command": ...}`` of the process holding ``run_dir``, or None if none does."""
    path = Path(run_dir) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_holder(path)
    else:
        return None
    finally:
        os.close(fd)


def _command():
    """What this process is, in a few words: ``minigrad train ...``, or a suite worker's module."""
    words = [os.path.basename(sys.argv[0])] + sys.argv[1:]
    return " ".join(words)[:200]


def _read_holder(path):
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        found = None
    return found if isinstance(found, dict) else {"pid": "?", "command": "?"}


def _in_use(path):
    found = _read_holder(path)
    return RunInUse(f"{path.parent} is in use by process {found.get('pid', '?')} ({found.get('command', '?')}).",
                    hint="Wait for it to end or stop it; two processes writing one run folder would mix "
                         "their epochs.")
