"""The commands, one module each: a plain ``run_<command>(cfg) -> exit code`` that composes the
stages (``corrkin.cli`` only composes the config and calls it; tests call it directly).

=========== =====================================================================================
analyse     keypoint files in, one result folder per clip and ``summary.csv`` out
run         videos in: pose, batter, bat tip (:mod:`corrkin.perception`), then the analysis
library     a shot library, resumable and shardable over processes
align       alignment of an analysed library (DTW, soft-DTW, Procrustes templates)
render      skeleton videos and OpenPose pictures of keypoint files
report      one self-contained HTML page of a run or a library
sample      swings drawn from a technique model
demo        the built-in synthetic library through every command
=========== =====================================================================================

What flows one way: commands import the stages (``io``, ``pose``, ``bat``, ``analysis``,
``library``, ``technique``, ``plots``, ``render``) and :mod:`corrkin.runtime`; no stage imports
a command (``tests/test_layout.py`` holds it).
"""
