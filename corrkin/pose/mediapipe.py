"""``pose=mediapipe``: MediaPipe Pose with the model shipped inside its wheel (offline, CPU).

MediaPipe 0.10.21 is the last release with ``mp.solutions.pose`` and its bundled BlazePose
model (``model_complexity=1``). It tracks one person per video, frame by frame (its API takes a
single RGB image), so frames are fed in order, chunk by chunk. Its 33 landmarks are mapped to
COCO-17 in image pixels, with each landmark's visibility as its score.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import platform
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from corrkin.io.video import VideoInfo
from corrkin.pose.select import People

# BlazePose landmark index of each COCO-17 keypoint (same left/right convention: the person's)
BLAZEPOSE_TO_COCO17 = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]


@contextlib.contextmanager
def native_quiet() -> Iterator[None]:
    """The process's standard error (file descriptor 2) sent to nowhere while the block runs:
    MediaPipe's C++ (TensorFlow Lite, absl) writes notes there on building its graph that no
    logging setting reaches. ``CORRKIN_VERBOSE=1`` (``--verbose`` on the command line) keeps them."""
    if os.environ.get("CORRKIN_VERBOSE"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class MediaPipePose:
    """A pose backend: ``backend(video, info, stride, frames)`` -> :class:`People` (one person)."""

    def __init__(self, model_complexity: int = 1, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5):
        try:
            import mediapipe as mp
        except ImportError as e:
            raise ImportError(f"pose=mediapipe needs mediapipe 0.10.21, whose wheels are for x86-64 Linux and Windows and "
                              f"for macOS, Python 3.9-3.12 ({platform.system()} {platform.machine()} here: {e}); use "
                              "pose=mmpose (make mmpose), pose=yolo (corrkin[yolo]) or pose=file instead") from None

        self._pose = mp.solutions.pose
        self.kwargs = dict(model_complexity=model_complexity, min_detection_confidence=min_detection_confidence,
                           min_tracking_confidence=min_tracking_confidence)

    def coco17(self, chunks: Iterable[torch.Tensor], static: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """COCO-17 ``(T, 17, 2)`` pixels and ``(T, 17)`` scores for ``(N, 3, H, W)`` uint8 chunks;
        a frame where nobody is found gets zeros."""
        kps, scores = [], []
        chunks = iter(chunks)
        with contextlib.ExitStack() as stack:
            with native_quiet():  # the graph is built, and its threads start, up to the first chunk's end
                model = stack.enter_context(self._pose.Pose(static_image_mode=static, **self.kwargs))
                for chunk in itertools.islice(chunks, 1):
                    self._chunk(model, chunk, kps, scores)
            for chunk in chunks:
                self._chunk(model, chunk, kps, scores)
        return np.stack(kps), np.stack(scores)

    @staticmethod
    def _chunk(model, chunk: torch.Tensor, kps: list, scores: list) -> None:
        h, w = chunk.shape[-2:]
        for frame in chunk.permute(0, 2, 3, 1).cpu().numpy():
            res = model.process(np.ascontiguousarray(frame))
            k, s = np.zeros((17, 2), np.float32), np.zeros(17, np.float32)
            if res.pose_landmarks is not None:
                lm = res.pose_landmarks.landmark
                for c, b in enumerate(BLAZEPOSE_TO_COCO17):
                    k[c] = (lm[b].x * w, lm[b].y * h)
                    s[c] = lm[b].visibility
            kps.append(k)
            scores.append(s)

    def __call__(self, video: Path, info: VideoInfo, stride: int,
                 frames: Callable[[], Iterator[torch.Tensor]]) -> People:
        return People.one(*self.coco17(frames()))
