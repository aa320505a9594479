"""Shot libraries: alignment and aggregation across clips (:mod:`corrkin.library.alignment`).
The commands over them are :mod:`corrkin.commands.library` (resumable, shardable) and
:mod:`corrkin.commands.align`."""
