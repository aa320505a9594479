"""``pose=mmpose``: top-down mmpose 2D body models (RTMPose by default), batched on the device.

People are found by an mmdet detector (RTMDet-m person by default), or, with
``detector_config: null``, each frame is one box (a clip that holds only the batter). Every
person box of a chunk of frames is cropped at once (``torchvision.ops.roi_align``: mmpose's
top-down crop, the box padded by 1.25 and widened to the model's aspect ratio, bilinear) and
the pose model runs on the whole batch, test-time flip included when its config asks for it;
the detector too takes a chunk of frames at a time. Only mmpose's decoder (its codec's
arg-max) runs per crop, after the model.

Configs are paths, or the names of configs shipped inside the mmpose / mmdet wheels (found
under their ``.mim`` folders). Checkpoints are paths or URLs, loaded by mmengine; ``null``
builds the model with random weights (what the tests do: no weights can be fetched there).
Frames are RGB; mmpose and mmdet models are trained on BGR images and convert in their data
preprocessors, so channels are given in the order each model's preprocessor expects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from corrkin.io.video import VideoInfo
from corrkin.pose.select import People

RTMPOSE_M = ("https://download.openmmlab.com/mmpose/v1/projects/rtmposev1/"
             "rtmpose-m_simcc-coco_pt-aic-coco_420e-256x192-d8dd5ca4_20230127.pth")
RTMDET_M_PERSON = ("https://download.openmmlab.com/mmpose/v1/projects/rtmpose/"
                   "rtmdet_m_8xb32-100e_coco-obj365-person-235e8209.pth")


def find_config(name: str, packages: tuple[str, ...] = ("mmpose", "mmdet")) -> str:
    """``name`` if it is a file, else the config of that name shipped in the mmpose or mmdet
    wheel (mmpose's demo holds the person detectors' configs)."""
    if Path(name).is_file():
        return str(name)
    import importlib

    for package in packages:
        root = Path(importlib.import_module(package).__file__).parent / ".mim"
        hits = sorted(root.rglob(Path(name).name))
        if hits:
            return str(hits[0])
    raise FileNotFoundError(f"{name}: no such config file, nor one of that name in {', '.join(packages)}")


def topdown_boxes(boxes: torch.Tensor, input_size: tuple[int, int], padding: float = 1.25) -> torch.Tensor:
    """mmpose's top-down crop of person boxes ``(M, 4)`` (x1, y1, x2, y2): centre kept, size
    times ``padding``, widened or heightened to the model's ``input_size`` (w, h) aspect ratio.
    Returns ``(M, 4)`` crop regions (x1, y1, x2, y2)."""
    w_in, h_in = input_size
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    wh = (boxes[:, 2:] - boxes[:, :2]) * padding
    aspect = w_in / h_in
    w = torch.maximum(wh[:, 0], wh[:, 1] * aspect)
    h = torch.maximum(wh[:, 1], wh[:, 0] / aspect)
    half = torch.stack([w, h], -1) / 2
    return torch.cat([centre - half, centre + half], -1)


def crop(frames: torch.Tensor, frame_of: torch.Tensor, regions: torch.Tensor, input_size: tuple[int, int]) -> torch.Tensor:
    """Crops ``(M, 3, h, w)`` float of ``regions (M, 4)`` from ``frames (N, 3, H, W)``
    (``frame_of (M,)`` the frame of each), one bilinear sample per output pixel: input pixel
    ``u`` samples image coordinate ``x1 + u * width / w`` (mmpose's affine crop)."""
    from torchvision.ops import roi_align

    w_in, h_in = input_size
    step = (regions[:, 2:] - regions[:, :2]) / torch.tensor([w_in, h_in], device=regions.device, dtype=regions.dtype)
    # roi_align samples bin centres (x1 + (u + 0.5) * step): shift by half a step
    rois = torch.cat([frame_of[:, None].to(regions.dtype), regions[:, :2] - step / 2, regions[:, 2:] - step / 2], -1)
    return roi_align(frames.float(), rois, output_size=(h_in, w_in), spatial_scale=1.0, sampling_ratio=1, aligned=False)


class MMPose:
    """A pose backend: ``backend(video, info, stride, frames)`` -> :class:`People`."""

    def __init__(self, config: str = "rtmpose-m_8xb256-420e_coco-256x192.py", checkpoint: str | None = RTMPOSE_M,
                 detector_config: str | None = "rtmdet_m_640-8xb32_coco-person.py",
                 detector_checkpoint: str | None = RTMDET_M_PERSON, device: str = "cpu", batch_size: int = 64,
                 bbox_thr: float = 0.3, max_people: int = 6):
        from mmpose.apis import init_model

        self.device = torch.device(device)
        self.model = init_model(find_config(config), checkpoint, device=str(self.device))
        self.input_size = tuple(self.model.cfg.codec["input_size"] if "codec" in self.model.cfg
                                else self.model.cfg.model.head.decoder.input_size)
        self.batch_size, self.bbox_thr, self.max_people = batch_size, bbox_thr, max_people
        self.detector = None
        if detector_config is not None:
            from mmdet.apis import init_detector
            from mmdet.utils import register_all_modules

            register_all_modules(init_default_scope=False)
            self.detector = init_detector(find_config(detector_config), detector_checkpoint, device=str(self.device))
            from mmengine.registry import init_default_scope

            init_default_scope("mmpose")

    # -- people ---------------------------------------------------------------------------------
    @torch.no_grad()
    def detect(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Person boxes ``(N, P, 4)`` and scores ``(N, P)`` (0 for padding) for RGB uint8 frames
        ``(N, 3, H, W)``, at most ``max_people`` per frame above ``bbox_thr``."""
        n, _, h, w = frames.shape
        if self.detector is None:
            box = torch.tensor([0.0, 0.0, w, h], device=frames.device)
            return box.expand(n, 1, 4).clone(), torch.ones(n, 1, device=frames.device)
        from mmdet.structures import DetDataSample

        scale = self._detector_scale()
        r = min(scale[0] / w, scale[1] / h)
        nw, nh = int(w * r + 0.5), int(h * r + 0.5)
        imgs = torch.nn.functional.interpolate(frames.float(), size=(nh, nw), mode="bilinear", align_corners=False)
        imgs = torch.nn.functional.pad(imgs, (0, scale[0] - nw, 0, scale[1] - nh), value=114.0)
        imgs = imgs.flip(1).round().clamp(0, 255).to(torch.uint8)  # BGR, as mmdet's pipeline loads
        meta = dict(ori_shape=(h, w), img_shape=(nh, nw), pad_shape=(scale[1], scale[0]), scale_factor=(nw / w, nh / h))
        data = {"inputs": list(imgs), "data_samples": [DetDataSample(metainfo=meta) for _ in range(n)]}
        results = self.detector.test_step(data)
        boxes = torch.zeros(n, self.max_people, 4, device=frames.device)
        scores = torch.zeros(n, self.max_people, device=frames.device)
        for i, res in enumerate(results):  # unpacking the batch's results, not running the model
            inst = res.pred_instances
            keep = (inst.labels == 0) & (inst.scores >= self.bbox_thr)
            b, s = inst.bboxes[keep], inst.scores[keep]
            order = s.argsort(descending=True)[: self.max_people]
            boxes[i, : len(order)], scores[i, : len(order)] = b[order].to(boxes), s[order].to(scores)
        return boxes, scores

    def _detector_scale(self) -> tuple[int, int]:
        for step in self.detector.cfg.test_pipeline:
            if step["type"] == "Resize":
                return tuple(step["scale"])
        return (640, 640)

    @torch.no_grad()
    def keypoints(self, frames: torch.Tensor, boxes: torch.Tensor, frame_of: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """COCO-17 keypoints ``(M, 17, 2)`` in image pixels and scores ``(M, 17)`` of the people
        in ``boxes (M, 4)`` (``frame_of (M,)`` their frames in ``frames``)."""
        from mmpose.structures import PoseDataSample

        model = self.model
        regions = topdown_boxes(boxes.float(), self.input_size)
        x = crop(frames, frame_of, regions, self.input_size)
        pre = model.data_preprocessor
        if not getattr(pre, "_channel_conversion", False):
            x = x.flip(1)  # the model takes BGR as it is; frames are RGB
        x = (x - pre.mean) / pre.std
        feats = model.extract_feat(x)
        if model.test_cfg.get("flip_test", False):
            feats = [feats, model.extract_feat(x.flip(-1))]
        samples = [PoseDataSample(metainfo=dict(flip_indices=model.dataset_meta["flip_indices"],
                                                input_size=self.input_size)) for _ in range(len(x))]
        preds = model.head.predict(feats, samples, test_cfg=model.test_cfg)
        if isinstance(preds, tuple):
            preds = preds[0]
        kp = np.stack([p.keypoints[0] for p in preds]).astype(np.float32)
        sc = np.stack([p.keypoint_scores[0] for p in preds]).astype(np.float32)
        reg = regions.cpu().numpy()
        size = reg[:, 2:] - reg[:, :2]
        kp = kp / np.asarray(self.input_size, np.float32) * size[:, None] + reg[:, None, :2]
        return kp, sc

    def people(self, chunks) -> People:
        """Everyone in RGB uint8 chunks ``(N, 3, H, W)``: detection then pose, each batched."""
        kps, scores, boxes, valid = [], [], [], []
        for chunk in chunks:
            chunk = chunk.to(self.device)
            for f0 in range(0, len(chunk), self.batch_size):
                frames = chunk[f0: f0 + self.batch_size]
                b, s = self.detect(frames)
                ok = s > 0
                frame_of, slot = ok.nonzero(as_tuple=True)
                k = np.zeros((*ok.shape, 17, 2), np.float32)
                sc = np.zeros((*ok.shape, 17), np.float32)
                if len(frame_of):
                    for m0 in range(0, len(frame_of), self.batch_size):
                        m = slice(m0, m0 + self.batch_size)
                        km, sm = self.keypoints(frames, b[frame_of[m], slot[m]], frame_of[m])
                        k[frame_of[m].cpu(), slot[m].cpu()], sc[frame_of[m].cpu(), slot[m].cpu()] = km, sm
                kps.append(k)
                scores.append(sc)
                boxes.append(b.cpu().numpy())
                valid.append(ok.cpu().numpy())
        p = max(v.shape[1] for v in valid)
        pad = lambda a: np.concatenate([np.pad(x, [(0, 0), (0, p - x.shape[1])] + [(0, 0)] * (x.ndim - 2)) for x in a])  # noqa: E731
        return People(pad(kps), pad(scores), pad(boxes).astype(np.float64), pad(valid).astype(bool))

    def __call__(self, video: Path, info: VideoInfo, stride: int,
                 frames: Callable[[], Iterator[torch.Tensor]]) -> People:
        return self.people(frames())
