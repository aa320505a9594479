"""The process a batch command runs in: glibc's allocator told to keep freed memory, the torch
device and its threads, Ctrl-C / SIGTERM / SIGHUP asking the run to stop between steps (and the
exit code that says which), and the worker processes' set-up (the stop request shared with them,
ending with their parent)."""

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
_SIGNAL: list[int | None] = [None]  # the signal that asked the run to stop
_SHARED: list = [None]  # the stop request as worker processes see it (shared_stop())


def shared_stop():
    """The stop request as an event that worker processes forked from this one see
    (:func:`worker_init` takes it): set with the run's own, so a worker's loop
    (:func:`corrkin.runtime.writing.write_many`) ends after the clip under way rather than after its whole group."""
    if _SHARED[0] is None:
        import multiprocessing as mp

        _SHARED[0] = mp.get_context("fork").Event() if "fork" in mp.get_all_start_methods() else threading.Event()
    return _SHARED[0]


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C (SIGINT), SIGTERM (a scheduler, ``kill``) and SIGHUP (a closed terminal) ask the
    run to stop: it finishes the step under way, keeps what finished, writes the summary of it
    and exits 128 + the signal (:func:`stop_code`: 130, 143, 129). The loops ask
    :func:`stop_requested` between steps, so no step is cut off at a random point (where
    Python may even swallow the interrupt); a second signal stops at once (KeyboardInterrupt).
    SIGKILL cannot be caught: the temporaries it leaves are removed by the next run
    (:func:`corrkin.io.results.remove_stale_temporaries`)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _STOP.clear()
    if _SHARED[0] is not None:
        _SHARED[0].clear()
    _SIGNAL[0] = None

    def on_signal(signum, frame):
        if _STOP.is_set():
            raise Stopped(f"signal {signum}, again")
        _SIGNAL[0] = signum
        _STOP.set()
        if _SHARED[0] is not None:
            _SHARED[0].set()
        print(f"stopping after the step under way (signal {signum}; again to stop now)", file=sys.stderr, flush=True)

    with _handling(on_signal):
        try:
            yield
        finally:
            _STOP.clear()
            if _SHARED[0] is not None:
                _SHARED[0].clear()


@contextlib.contextmanager
def _handling(on_signal) -> Iterator[None]:
    """``on_signal`` handles Ctrl-C, SIGTERM and SIGHUP (where the platform has it) while the
    block runs; the handlers before it are put back after."""
    caught = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {s: signal.signal(s, on_signal) for s in caught}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """Outside a command's own loops (:func:`stop_on_signals`), Ctrl-C, SIGTERM and SIGHUP end the
    step at once, as Ctrl-C does (``KeyboardInterrupt``), and :func:`stop_code` says which: the
    command line catches it and exits 128 + the signal, with one line and no traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SIGNAL[0] = None

    def on_signal(signum, frame):
        _SIGNAL[0] = signum
        raise Stopped(f"signal {signum}")

    with _handling(on_signal):
        yield


def stop_code() -> int:
    """The exit code of a run stopped by a signal: 128 + its number (Ctrl-C 130, SIGTERM 143,
    SIGHUP 129), as a shell reports a process that signal ended."""
    return 128 + (_SIGNAL[0] or signal.SIGINT)


def stopping() -> bool:
    """Whether a signal asked the run to stop (:func:`stop_on_signals`), here or, in a worker
    process, in the run that forked it (:func:`shared_stop`)."""
    return _STOP.is_set() or (_SHARED[0] is not None and _SHARED[0].is_set())


def stop_requested() -> None:
    """Raise :class:`Stopped` if a signal asked the run to stop (:func:`stopping`)."""
    if stopping():
        raise Stopped("stop requested")


def worker_init(parent: int, stop=None) -> None:
    """In a worker process: Ctrl-C is the parent's to handle (it stops the run and then the
    workers, so no file is cut off mid-write by the keyboard); ``stop`` (:func:`shared_stop`)
    is how the parent asks the worker's loops to end after the clip under way; and the worker
    ends itself when its parent is gone, however the parent died (SIGKILL, the OOM killer),
    instead of waiting on a pipe nobody will write to again."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _SHARED[0] = stop

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="corrkin-parent-watch", daemon=True).start()


def resolve_device(name: str, threads: int | None = None, io_workers: int = 0):
    """The torch device, with CPU threads set: ``threads``, or the cores the I/O worker
    processes leave (at least one). On two cores, two torch threads spinning beside two busy
    workers cost more than they gain."""
    import torch

    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name}: CUDA is not available on this machine (use device=cpu)")
    torch.set_num_threads(threads if threads else max(1, (os.cpu_count() or 1) - io_workers))
    return dev
