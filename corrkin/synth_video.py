"""Render :mod:`corrkin.synth` clips to video, with exact ground truth.

A batter in cricket whites (filled shirt and trousers, skin forearms, gloves, shoes, a face
with hair, eyes and mouth) holding a rigid bat (``SwingSpec.rigid_bat``), over a textured
ground that pans and zooms with the same camera as the figure
(:func:`corrkin.synth.camera_path`), with Gaussian blur (kornia), pixel noise and H.264
compression. The figure looks enough like a person for MediaPipe's detector to find it.

The figure faces the camera, so its left side is on the image's right: the ground truth (and
the chain) name the joints as the person's own, as every pose model does, mirroring the names
of :mod:`corrkin.synth`. Optionally a second person (a fielder in dark trousers, nearer the
camera and so larger, without a bat) walks across the frame: batter selection must not take them.

The ground truth is the jitter-free keypoints and bat tip of what is drawn, in the video's
pixels, written beside the ``.mp4`` as a corrkin ``.npz``; with a second person, also an mmpose
prediction JSON holding both people (COCO-17 and boxes), as a multi-person model would write.

Drawing is batched in torch: every pixel's distance to every body part (capsules), for a few
frames at a time, turned into anti-aliased coverage.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import torch

from corrkin.io.keypoints import Clip, save_clip
from corrkin.io.video import write_video
from corrkin.ops.geometry import point_segment_distance
from corrkin.skeleton import COCO17, JOINTS, shoulder_width
from corrkin.skeleton import JOINT_INDEX as J
from corrkin.synth import FRAME_CENTRE, RotationSpec, SwingSpec, camera_path, make_clip, make_rotation_clip

WHITES = (238, 236, 228)
SKIN = (200, 152, 118)
HAIR = (40, 30, 25)
FEATURES = (30, 25, 25)
SHOES = (60, 60, 60)
BAT = (214, 184, 128)
PASSER_SCALE = 1.5  # the second person is nearer the camera: larger than the batter
FIELDER = {"shirt": (40, 70, 150), "trousers": (45, 45, 55)}


def mirror_name(name: str) -> str:
    """``l_x`` <-> ``r_x`` (other names unchanged)."""
    return {"l_": "r_", "r_": "l_"}.get(name[:2], name[:2]) + name[2:] if name[:2] in ("l_", "r_") else name


MIRROR = [J[mirror_name(n)] for n in JOINTS]  # joint order of the figure as it faces the camera


def _coverage(px: torch.Tensor, a: torch.Tensor, b: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Anti-aliased coverage ``(F, H, W)`` of one capsule per frame, ``a -> b`` (``(F, 2)``)."""
    d = point_segment_distance(px[None], a[:, None, None, :], b[:, None, None, :])
    return (radius[:, None, None] - d + 0.5).clamp(0, 1)


CREASE_Y = 2.35  # the popping crease, just under the batter's feet (ankles at 2.2 shoulder widths)
CREASE_HALF_LENGTH = 4.0  # shoulder widths either side of the batter's stance
CREASE_HALF_WIDTH = 0.05  # shoulder widths


def _ground(px: torch.Tensor, zoom: torch.Tensor, pan: torch.Tensor, scale: float, spec: SwingSpec,
            grid: torch.Tensor, crease: bool = True, photo: torch.Tensor | None = None) -> torch.Tensor:
    """Textured ground ``(F, 3, H, W)`` float in [0, 255], fixed in the world, with the popping
    crease painted white across the batter's feet; with ``photo`` (``(1, 3, h, w)``), that
    photograph spread over the ground instead of the procedural texture."""
    world = ((px[None] / scale) - torch.tensor(FRAME_CENTRE) + pan[:, None, None]) / (spec.shoulder_px * zoom[:, None, None, None])
    uv = (world / 12.0).clamp(-1, 1).float()  # the texture spans +-12 shoulder widths
    if photo is not None:
        img = torch.nn.functional.grid_sample(photo.expand(len(zoom), -1, -1, -1), uv, align_corners=False)
    else:
        tex = torch.nn.functional.grid_sample(grid.expand(len(zoom), -1, -1, -1), uv, align_corners=False)[:, 0]
        stripe = 0.5 + 0.5 * torch.cos(world[..., 0] * 2.2)
        base = torch.tensor([92.0, 128.0, 70.0])[:, None, None]
        img = (base[None] * (0.75 + 0.35 * tex[:, None]) + 18 * stripe[:, None]).clamp(0, 255)
    if crease:
        sw_px = (spec.shoulder_px * zoom * scale)[:, None, None]
        off = ((world[..., 1] - CREASE_Y).abs() - CREASE_HALF_WIDTH).clamp_min(0) * sw_px
        cov = (0.5 - off).clamp(0, 1) * 2 * (world[..., 0].abs() <= CREASE_HALF_LENGTH)
        cov = cov.clamp(0, 1)[:, None]
        img = img * (1 - cov) + 240.0 * cov
    return img


def head_centre(kps: torch.Tensor, sw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The head's centre, the body's up and the image-right unit vectors ``(T, 2)`` each, from
    the 13 joints ``(T, 13, 2)`` and the figure's size ``sw (T, 1)`` (pixels per shoulder
    width): the head sits half a shoulder width above the shoulders."""
    shoulders = (kps[:, J["l_shoulder"]] + kps[:, J["r_shoulder"]]) / 2
    up = shoulders - kps[:, J["pelvis"]]
    up = up / up.norm(dim=-1, keepdim=True).clamp_min(1e-6)
    right = torch.stack([-up[:, 1], up[:, 0]], -1)
    return shoulders + 0.5 * sw * up, up, right


def figure_parts(kps: torch.Tensor, size: torch.Tensor, shirt=WHITES, trousers=WHITES) -> list[tuple]:
    """A person as capsules ``(a (T, 2), b (T, 2), radius (T,) in pixels, colour)``, drawn in
    order, from the 13 joints ``(T, 13, 2)`` of a figure facing the camera whose shoulder width
    is ``size (T,)`` pixels."""
    p = {n: kps[:, J[n]] for n in JOINTS}
    sw = size[:, None]
    head, up, right = head_centre(kps, sw)
    shoulders = (p["l_shoulder"] + p["r_shoulder"]) / 2
    toe = lambda ankle, side: ankle + sw * (0.14 * side * right - 0.02 * up)  # noqa: E731
    at = lambda x, u=0.0, r=0.0: x + sw * (u * up + r * right)  # noqa: E731
    parts = [
        (p["l_knee"], p["l_ankle"], 0.17, trousers), (p["r_knee"], p["r_ankle"], 0.17, trousers),
        (p["l_hip"], p["l_knee"], 0.2, trousers), (p["r_hip"], p["r_knee"], 0.2, trousers),
        (p["l_ankle"], toe(p["l_ankle"], 1), 0.1, SHOES), (p["r_ankle"], toe(p["r_ankle"], -1), 0.1, SHOES),
        (shoulders, p["pelvis"], 0.38, shirt),
        (p["l_shoulder"], p["l_hip"], 0.16, shirt), (p["r_shoulder"], p["r_hip"], 0.16, shirt),
        (p["l_shoulder"], p["r_shoulder"], 0.17, shirt),
        (shoulders, at(shoulders, 0.3), 0.11, SKIN),  # neck
        (at(head, 0.05), at(head, 0.05), 0.25, HAIR),
        (at(head, -0.02), at(head, -0.06), 0.22, SKIN),  # face
        (at(head, 0.0, 0.09), at(head, 0.0, 0.09), 0.035, FEATURES), (at(head, 0.0, -0.09), at(head, 0.0, -0.09), 0.035, FEATURES),
        (at(head, -0.15, -0.05), at(head, -0.15, 0.05), 0.02, (120, 50, 50)),  # mouth
        (p["l_shoulder"], p["l_elbow"], 0.13, shirt), (p["r_shoulder"], p["r_elbow"], 0.13, shirt),
        (p["l_elbow"], p["l_wrist"], 0.1, SKIN), (p["r_elbow"], p["r_wrist"], 0.1, SKIN),
    ]
    return [(a, b, r * size, c) for a, b, r, c in parts]


def _walker(t_frames: int, fps: float, sw: torch.Tensor, h: int, w: int, seed: int) -> torch.Tensor:
    """The 13 joints ``(T, 13, 2)`` of a person walking across the middle of the frame, right to left (past the batter), nearer
    the camera than the batter (``PASSER_SCALE`` times their size), with swinging legs and arms."""
    rng = np.random.default_rng(seed + 7)
    t = torch.arange(t_frames, dtype=torch.float32) / fps
    size = PASSER_SCALE * sw  # (T,) pixels per shoulder width
    x = w * (0.8 - 0.5 * t / max(float(t[-1]), 1e-6)) + float(rng.uniform(-10, 10))
    y = torch.full_like(t, 0.58 * h)
    swing = 0.3 * torch.sin(2 * np.pi * 1.6 * t)
    rel = torch.zeros(t_frames, len(JOINTS), 2)
    # standing upright, arms by the sides, in shoulder widths; the person's left on the image's right
    for side, sign in (("l", 1.0), ("r", -1.0)):
        step = sign * swing
        rel[:, J[f"{side}_shoulder"]] = torch.tensor([0.5 * sign, -1.7])
        rel[:, J[f"{side}_elbow"]] = torch.stack([0.6 * sign - 0.5 * step, torch.full_like(t, -1.0)], -1)
        rel[:, J[f"{side}_wrist"]] = torch.stack([0.65 * sign - step, torch.full_like(t, -0.35)], -1)
        rel[:, J[f"{side}_hip"]] = torch.tensor([0.35 * sign, 0.0])
        rel[:, J[f"{side}_knee"]] = torch.stack([0.35 * sign + 0.5 * step, torch.full_like(t, 1.1)], -1)
        rel[:, J[f"{side}_ankle"]] = torch.stack([0.35 * sign + step, torch.full_like(t, 2.2)], -1)
    return rel * size[:, None, None] + torch.stack([x, y], -1)[:, None]


def coco17(kps: torch.Tensor, size: torch.Tensor) -> torch.Tensor:
    """COCO-17 ``(T, 17, 2)`` of a drawn figure (13 joints ``(T, 13, 2)``, shoulder width
    ``size (T,)`` pixels): the joints, and the face points where the face is drawn (nose on the
    face, eyes where they are drawn, ears at the face's sides)."""
    sw = size[:, None]
    head, up, right = head_centre(kps, sw)
    out = torch.zeros(len(kps), 17, 2)
    for i, name in enumerate(COCO17):
        if name in J:
            out[:, i] = kps[:, J[name]]
    # facing the camera, the person's left is the image's right (+right)
    face = {"nose": (-0.08, 0.0), "l_eye": (0.0, 0.09), "r_eye": (0.0, -0.09), "l_ear": (-0.04, 0.22), "r_ear": (-0.04, -0.22)}
    for name, (u, r) in face.items():
        out[:, COCO17.index(name)] = head + sw * (u * up + r * right)
    return out


@dataclasses.dataclass(frozen=True)
class Look:
    """How a rendered clip looks, beyond the swing: for testing perception across conditions
    (``benchmarks/bat.py``), never for tuning it to one.

    ``bat_colour`` RGB, or None for no bat at all; ``bat_width`` the bat's half-width and
    ``bat_length`` its length relative to the swing's (shoulder widths, times); ``ground`` the
    procedural ``"pitch"`` or the name of a real photograph shipped with scikit-image
    (``"grass"``, ``"gravel"``, ``"brick"``, ``"rocket"``, ``"coffee"``, ...) laid on the
    ground and moving with the camera; ``bat_behind`` draws the bat behind the body (hidden
    where it passes behind it, as in a real backswing); ``shutter`` averages that many
    sub-frames over each frame's interval (motion blur of a fully open shutter)."""

    bat_colour: tuple[int, int, int] | None = BAT
    bat_width: float = 0.07
    bat_length: float = 1.0
    ground: str = "pitch"
    bat_behind: bool = False
    shutter: int = 1


PHOTO_TINT = {"grass": (0.75, 1.0, 0.6), "gravel": (1.0, 0.9, 0.75), "brick": (1.0, 0.7, 0.6)}


def _photo(name: str) -> torch.Tensor:
    """A real photograph shipped with scikit-image, ``(1, 3, H, W)`` float in [0, 255] (grey
    ones tinted by :data:`PHOTO_TINT`)."""
    import skimage.data

    img = torch.from_numpy(np.asarray(getattr(skimage.data, name)())).float()
    if img.ndim == 2:
        img = img[..., None] * torch.tensor(PHOTO_TINT.get(name, (1.0, 1.0, 1.0)))
    return img[..., :3].permute(2, 0, 1)[None]


def render_clip(spec: SwingSpec | RotationSpec, seed: int = 0, name: str = "rendered", size: tuple[int, int] = (360, 640),
                blur_sigma: float = 0.8, noise: float = 3.0, chunk: int = 8, passer: bool = False,
                crease: bool = True, look: Look = Look()):
    """Frames ``(T, 3, H, W)`` uint8, the batter's exact ground truth as a :class:`Clip` in the
    frames' pixels, and the chain truth of :func:`corrkin.synth.make_clip` (joint names as the
    person's own) with ``"size"``, the batter's drawn shoulder width in pixels ``(T,)``. With
    ``passer``, the truth also holds ``"passer"``: the second person's 13 joints ``(T, 13, 2)``,
    and ``"passer_size"``. ``"bat_visible"`` ``(T,)`` is the share of the outer half of the bat (where
    its tip is) that shows in the frame: not behind the body or the passer, not out of frame
    (0 with no bat).
    ``crease``: paint the popping crease under the batter's feet.
    ``look``: bat, ground and blur (:class:`Look`); with no bat, the truth's bat is NaN with
    score 0. A :class:`corrkin.synth.RotationSpec` (a whole stroke, :func:`corrkin.synth.stroke_spec`)
    renders its segment rotations, stride and backlift: its truth has no chain (``stroke_truth``
    gives its events)."""
    import kornia

    sub = max(1, int(look.shutter))
    if isinstance(spec, RotationSpec):
        spec = dataclasses.replace(spec, jitter_px=0.0, fps=spec.fps * sub)
        clip = make_rotation_clip(spec, seed=seed, name=name)
        truth = {"chain": [], "lag_frames": [], "peak_frames": {}, "fps": spec.fps}
    else:
        spec = dataclasses.replace(spec, jitter_px=0.0, rigid_bat=True, fps=spec.fps * sub)
        clip, truth = make_clip(spec, seed=seed, name=name)
    h, w = size
    scale = w / (2 * FRAME_CENTRE[0])
    kps = torch.from_numpy(clip.keypoints).float()[:, MIRROR] * scale  # names as the person's own
    tip = torch.from_numpy(clip.bat).float() * scale
    zoom, pan = (torch.from_numpy(a).float() for a in camera_path(spec))
    sw = spec.shoulder_px * zoom * scale  # shoulder width in output pixels, per frame
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    px = torch.stack([xs, ys], -1) + 0.5
    g = torch.Generator().manual_seed(seed)
    grid = torch.rand(1, 1, 48, 48, generator=g)
    photo = None if look.ground == "pitch" else _photo(look.ground)

    hands = (kps[:, J["l_wrist"]] + kps[:, J["r_wrist"]]) / 2
    tip = hands + look.bat_length * (tip - hands)
    bat = [] if look.bat_colour is None else [(hands, tip, look.bat_width * sw, look.bat_colour)]
    parts = (bat if look.bat_behind else []) + figure_parts(kps, sw) + ([] if look.bat_behind else bat)
    parts += [(kps[:, J[n]], kps[:, J[n]], 0.1 * sw, WHITES) for n in ("l_wrist", "r_wrist")]  # gloves
    other = None
    if passer:  # drawn last: nearer the camera
        other = _walker(len(kps), spec.fps, sw, h, w, seed)
        parts += figure_parts(other, PASSER_SCALE * sw, **FIELDER)
        parts += [(other[:, J[n]], other[:, J[n]], 0.1 * PASSER_SCALE * sw, SKIN) for n in ("l_wrist", "r_wrist")]
    out, shown = [], []
    for f0 in range(0, len(kps), chunk):
        sl = slice(f0, f0 + chunk)
        img = _ground(px, zoom[sl], pan[sl], scale, spec, grid, crease, photo)
        seen = None  # the bat's coverage, and how much of it shows through what is drawn over it
        for part in parts:
            a, b, radius, colour = part
            cov = _coverage(px, a[sl], b[sl], radius[sl])
            if bat and part is bat[0]:
                seen = cov
            elif seen is not None:
                seen = seen * (1 - cov)
            col = torch.tensor(colour, dtype=img.dtype)[None, :, None, None]
            img = img * (1 - cov[:, None]) + col * cov[:, None]
        out.append(img)
        if seen is not None:  # of the bat's outer half (where its tip is found), against its whole
            a, b, radius, _ = bat[0]  # area: a bat partly out of frame shows less
            mid = (a[sl] + b[sl]) / 2
            outer = _coverage(px, mid, b[sl], radius[sl])
            area = 2 * radius[sl] * torch.linalg.vector_norm(b[sl] - mid, dim=-1) + math.pi * radius[sl] ** 2
            shown.append(((seen * outer).sum((1, 2)) / area.clamp_min(1e-6)).clamp(0, 1))
    frames = torch.cat(out).float()
    visible = torch.cat(shown) if shown else torch.zeros(len(frames))
    t = len(frames) // sub
    if sub > 1:  # each frame the mean of its sub-frames; the truth at the exposure's middle
        frames = frames[: t * sub].view(t, sub, *frames.shape[1:]).mean(1)
        mid = lambda x: x[: t * sub].view(t, sub, *x.shape[1:]).mean(1)  # noqa: E731
        kps, tip, sw, visible = mid(kps), mid(tip), mid(sw), mid(visible)
        other = None if other is None else mid(other)
        clip = dataclasses.replace(clip, scores=clip.scores[: t * sub: sub], bat_scores=clip.bat_scores[: t * sub: sub],
                                   fps=clip.fps / sub)
        truth = dict(truth, fps=truth["fps"] / sub, peak_frames={n: int(round(v / sub)) for n, v in truth["peak_frames"].items()})
    if blur_sigma > 0:
        k = 2 * int(3 * blur_sigma) + 1
        frames = kornia.filters.gaussian_blur2d(frames, (k, k), (blur_sigma, blur_sigma))
    frames = frames + noise * torch.randn(frames.shape, generator=g)
    frames = frames.round().clamp(0, 255).to(torch.uint8)
    bat_scores = clip.bat_scores if look.bat_colour is not None else np.zeros_like(clip.bat_scores)
    tip = tip if look.bat_colour is not None else torch.full_like(tip, float("nan"))
    gt = dataclasses.replace(clip, keypoints=kps.numpy(), bat=tip.numpy(), bat_scores=bat_scores,
                             path=f"<rendered {name}>", source="rendered")
    truth = dict(truth, chain=[mirror_name(n) for n in truth["chain"]],
                 peak_frames={mirror_name(n): v for n, v in truth["peak_frames"].items()},
                 size=sw.numpy())  # the batter's drawn shoulder width, pixels per frame
    truth["bat_visible"] = visible.numpy()
    if other is not None:
        truth["passer"] = other.numpy()
        truth["passer_size"] = (PASSER_SCALE * sw).numpy()
    return frames, gt, truth


def people_json(gt: Clip, truth: dict) -> dict:
    """mmpose prediction JSON (``instance_info``) of the batter and the second person: COCO-17,
    scores and boxes per frame, in the batter-first order; no bat keypoint (the bat must be
    found on the pixels)."""
    # the face points where render_clip drew them: from the drawn size, not the joints' spread
    people = [(coco17(torch.from_numpy(gt.keypoints), torch.from_numpy(truth["size"])), truth["size"])]
    if "passer" in truth:
        people.append((coco17(torch.from_numpy(truth["passer"]), torch.from_numpy(truth["passer_size"])),
                       truth["passer_size"]))
    frames = []
    for f in range(len(gt.keypoints)):
        inst = []
        for k, size in people:
            k = k[f].numpy().astype(float)
            pad = 0.25 * float(size[f])
            box = [*(k.min(0) - pad), *(k.max(0) + pad)]
            inst.append({"keypoints": k.round(2).tolist(), "keypoint_scores": [0.9] * 17, "bbox": [box]})
        frames.append({"frame_id": f, "instances": inst})
    return {"meta_info": {"dataset_name": "coco"}, "instance_info": frames}


def write_rendered(out_dir: str | Path, spec: SwingSpec, seed: int = 0, name: str = "rendered",
                   crf: int = 23, passer: bool = False, **kwargs) -> tuple[Path, Path]:
    """Render one clip and write ``<name>.mp4`` and the batter's ground truth ``<name>.npz``;
    with ``passer``, also ``<name>.json``: both people as an mmpose prediction file."""
    from corrkin.io.results import write_json

    out_dir = Path(out_dir)
    frames, gt, truth = render_clip(spec, seed=seed, name=name, passer=passer, **kwargs)
    video, keypoints = out_dir / f"{name}.mp4", out_dir / f"{name}.npz"
    write_video(video, frames, spec.fps, crf=crf)
    save_clip(keypoints, gt)
    if passer:
        write_json(out_dir / f"{name}.json", people_json(gt, truth))
    return video, keypoints


def tip_error(tip, truth: Clip) -> np.ndarray:
    """Per-frame distance of ``tip (T, 2)`` from the true bat tip, in shoulder widths."""
    tip = tip.cpu().numpy() if isinstance(tip, torch.Tensor) else np.asarray(tip)
    sw = shoulder_width(truth.keypoints)
    return np.linalg.norm(tip - truth.bat, axis=-1) / sw
