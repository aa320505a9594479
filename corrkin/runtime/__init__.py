"""What every batch command shares (``corrkin analyse``, ``run``, ``library``), one concern a module:

- :mod:`~corrkin.runtime.process`: the allocator, the device and threads, signals asking the run
  to stop between steps and the exit code that says which, the worker processes' set-up;
- :mod:`~corrkin.runtime.clips`: :class:`ClipResult`, what a clip is from its analysis to its
  ``summary.csv`` row;
- :mod:`~corrkin.runtime.batching`: analysing clips in batches by length, the failing ones
  isolated; provenance; given impact times;
- :mod:`~corrkin.runtime.writing`: each clip's folder written as one unit with its biomechanics,
  figures and metrics row; ``summary.csv``, ``metrics.csv`` and the exit code.

The commands (:mod:`corrkin.commands`) orchestrate these; the names below are what they use."""

from corrkin.runtime.batching import (
    FRAMES_PER_SLOT,
    analyse_split,
    attach_impacts,
    length_buckets,
    load_impacts,
    provenance,
    settings_digest,
)
from corrkin.runtime.clips import ClipResult, failed_row
from corrkin.runtime.process import (
    Stopped,
    interrupt_on_signals,
    keep_freed_memory,
    resolve_device,
    shared_stop,
    stop_code,
    stop_on_signals,
    stop_requested,
    stopping,
    worker_init,
)
from corrkin.runtime.writing import finish, write_clip, write_many, write_metrics, write_result

__all__ = [
    "FRAMES_PER_SLOT", "ClipResult", "Stopped", "analyse_split", "attach_impacts", "failed_row", "finish",
    "interrupt_on_signals", "keep_freed_memory", "length_buckets", "load_impacts", "provenance", "resolve_device",
    "settings_digest", "shared_stop", "stop_code", "stop_on_signals", "stop_requested", "stopping", "worker_init",
    "write_clip", "write_many", "write_metrics", "write_result",
]
