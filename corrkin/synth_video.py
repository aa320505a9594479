"""Render :mod:`corrkin.synth` clips to video, with exact ground truth.

A jointed figure in cricket whites with a rigid bat (``SwingSpec.rigid_bat``), over a textured ground that pans and zooms with
the same camera as the figure (:func:`corrkin.synth.camera_path`), with Gaussian blur (kornia),
pixel noise and H.264 compression. The ground truth is the jitter-free keypoints and bat tip of
what is drawn, in the video's pixels, written beside the ``.mp4`` as a corrkin ``.npz``.

Drawing is batched in torch: every pixel's distance to every limb segment, for a few frames at a
time, turned into anti-aliased coverage.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from corrkin.io.keypoints import Clip, save_clip
from corrkin.io.video import write_video
from corrkin.ops.geometry import point_segment_distance
from corrkin.skeleton import JOINT_INDEX as J
from corrkin.skeleton import LIMBS
from corrkin.synth import FRAME_CENTRE, SwingSpec, camera_path, make_clip

WHITES = (235, 232, 222)
SKIN = (196, 150, 118)
BAT = (214, 184, 128)


def _coverage(px: torch.Tensor, a: torch.Tensor, b: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Anti-aliased coverage ``(F, H, W)`` of one capsule per frame, ``a -> b`` (``(F, 2)``)."""
    d = point_segment_distance(px[None], a[:, None, None, :], b[:, None, None, :])
    return (radius[:, None, None] - d + 0.5).clamp(0, 1)


def _ground(px: torch.Tensor, zoom: torch.Tensor, pan: torch.Tensor, scale: float, spec: SwingSpec,
            grid: torch.Tensor) -> torch.Tensor:
    """Textured ground ``(F, 3, H, W)`` float in [0, 255], fixed in the world."""
    world = ((px[None] / scale) - torch.tensor(FRAME_CENTRE) + pan[:, None, None]) / (spec.shoulder_px * zoom[:, None, None, None])
    uv = (world / 12.0).clamp(-1, 1).float()  # the texture spans +-12 shoulder widths
    tex = torch.nn.functional.grid_sample(grid.expand(len(zoom), -1, -1, -1), uv, align_corners=False)[:, 0]
    stripe = 0.5 + 0.5 * torch.cos(world[..., 0] * 2.2)
    base = torch.tensor([92.0, 128.0, 70.0])[:, None, None]
    return (base[None] * (0.75 + 0.35 * tex[:, None]) + 18 * stripe[:, None]).clamp(0, 255)


def render_clip(spec: SwingSpec, seed: int = 0, name: str = "rendered", size: tuple[int, int] = (360, 640),
                blur_sigma: float = 0.8, noise: float = 3.0, chunk: int = 8) -> tuple[torch.Tensor, Clip, dict]:
    """Frames ``(T, 3, H, W)`` uint8, the exact ground truth as a :class:`Clip` in the frames'
    pixels, and the chain truth of :func:`corrkin.synth.make_clip`."""
    import kornia

    spec = dataclasses.replace(spec, jitter_px=0.0, rigid_bat=True)
    clip, truth = make_clip(spec, seed=seed, name=name)
    h, w = size
    scale = w / (2 * FRAME_CENTRE[0])
    kps = torch.from_numpy(clip.keypoints).float() * scale
    tip = torch.from_numpy(clip.bat).float() * scale
    zoom, pan = (torch.from_numpy(a).float() for a in camera_path(spec))
    sw = spec.shoulder_px * zoom * scale  # shoulder width in output pixels, per frame
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    px = torch.stack([xs, ys], -1) + 0.5
    g = torch.Generator().manual_seed(seed)
    grid = torch.rand(1, 1, 48, 48, generator=g)

    shoulders = (kps[:, J["l_shoulder"]] + kps[:, J["r_shoulder"]]) / 2
    head = shoulders + 0.28 * (shoulders - kps[:, J["pelvis"]])
    hands = (kps[:, J["l_wrist"]] + kps[:, J["r_wrist"]]) / 2
    out = []
    for f0 in range(0, len(kps), chunk):
        sl = slice(f0, f0 + chunk)
        img = _ground(px, zoom[sl], pan[sl], scale, spec, grid)
        body = torch.zeros(img.shape[0], h, w)
        for p, q in LIMBS:
            body = torch.maximum(body, _coverage(px, kps[sl, J[p]], kps[sl, J[q]], 0.16 * sw[sl]))
        head_cov = _coverage(px, head[sl], head[sl], 0.22 * sw[sl])
        bat_cov = _coverage(px, hands[sl], tip[sl], 0.07 * sw[sl])
        for cov, colour in ((body, WHITES), (head_cov, SKIN), (bat_cov, BAT)):
            col = torch.tensor(colour, dtype=img.dtype)[None, :, None, None]
            img = img * (1 - cov[:, None]) + col * cov[:, None]
        out.append(img)
    frames = torch.cat(out).float()
    if blur_sigma > 0:
        k = 2 * int(3 * blur_sigma) + 1
        frames = kornia.filters.gaussian_blur2d(frames, (k, k), (blur_sigma, blur_sigma))
    frames = frames + noise * torch.randn(frames.shape, generator=g)
    frames = frames.round().clamp(0, 255).to(torch.uint8)
    gt = dataclasses.replace(clip, keypoints=kps.numpy(), bat=tip.numpy(),
                             path=f"<rendered {name}>", source="rendered")
    return frames, gt, truth


def write_rendered(out_dir: str | Path, spec: SwingSpec, seed: int = 0, name: str = "rendered",
                   crf: int = 23, **kwargs) -> tuple[Path, Path]:
    """Render one clip and write ``<name>.mp4`` and its ground truth ``<name>.npz``."""
    out_dir = Path(out_dir)
    frames, gt, _ = render_clip(spec, seed=seed, name=name, **kwargs)
    video, keypoints = out_dir / f"{name}.mp4", out_dir / f"{name}.npz"
    write_video(video, frames, spec.fps, crf=crf)
    save_clip(keypoints, gt)
    return video, keypoints


def tip_error(tip, truth: Clip) -> np.ndarray:
    """Per-frame distance of ``tip (T, 2)`` from the true bat tip, in shoulder widths."""
    tip = tip.cpu().numpy() if isinstance(tip, torch.Tensor) else np.asarray(tip)
    sw = np.linalg.norm(truth.keypoints[:, J["l_shoulder"]] - truth.keypoints[:, J["r_shoulder"]], axis=-1)
    return np.linalg.norm(tip - truth.bat, axis=-1) / sw

