"""Shot libraries: alignment and aggregation across clips (:mod:`corrkin.library.alignment`), the
resumable, shardable library runner (:mod:`corrkin.library.runner`)."""
