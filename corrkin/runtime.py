"""Process-level settings for long batch runs."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse instead of handing it back to the OS.

    Every batch allocates the same temporaries; with glibc's defaults each large one is mapped
    afresh and its pages faulted in again, which costs about a fifth of the engine's CPU time
    here. This raises the mmap threshold to its maximum (32 MiB on 64-bit) and disables trimming
    for the process, the same effect as ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_``.
    Returns whether it took effect (False off glibc). The peak memory of a run is unchanged.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


class Stopped(KeyboardInterrupt):
    """The run was asked to stop (Ctrl-C, or SIGTERM from a scheduler or ``kill``): it stops
    taking new work, keeps what finished, and says what is left."""


_STOP = threading.Event()


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C (SIGINT) and SIGTERM (a scheduler, ``kill``) ask the run to stop: it finishes the
    step under way, keeps what finished, writes the summary of it and exits 130. The loops ask
    :func:`stop_requested` between steps, so no step is cut off at a random point (where
    Python may even swallow the interrupt); a second signal stops at once (KeyboardInterrupt).
    SIGKILL cannot be caught: the temporaries it leaves are removed by the next run
    (:func:`corrkin.io.results.remove_stale_temporaries`)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _STOP.clear()

    def on_signal(signum, frame):
        if _STOP.is_set():
            raise Stopped(f"signal {signum}, again")
        _STOP.set()
        print(f"stopping after the step under way (signal {signum}; again to stop now)", file=sys.stderr, flush=True)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _STOP.clear()


def stop_requested() -> None:
    """Raise :class:`Stopped` if a signal asked the run to stop (:func:`stop_on_signals`)."""
    if _STOP.is_set():
        raise Stopped("stop requested")


def worker_init(parent: int) -> None:
    """In a worker process: Ctrl-C is the parent's to handle (it stops the run and then the
    workers, so no file is cut off mid-write by the keyboard), and the worker ends itself when
    its parent is gone, however the parent died (SIGKILL, the OOM killer), instead of waiting
    on a pipe nobody will write to again."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="corrkin-parent-watch", daemon=True).start()
