"""A synthetic library of batting keypoints with a known kinetic chain.

Each clip is a 2-D stick figure in a batting stance filmed by a panning, zooming camera with
pixel jitter. The swing is built so that its ground truth is exact:

* the feet stay planted; the front foot may stride (``stride``);
* the pelvis moves over the feet, and the chain's other joints move relative to the pelvis, each
  along the swing direction with a smooth step (its velocity a Gaussian pulse of width
  ``pulse_s``) whose peak comes ``delay_s`` after the previous link's: a proximal-to-distal
  sequence ``CHAIN`` = pelvis -> lead shoulder -> lead elbow -> lead wrist -> bat;
* the bat tip moves like the other links (a clean pulse along the swing direction), or, with
  ``rigid_bat`` (what rendered video uses, since a bat must look like one), the bat keeps its
  length from the hands (the wrists' midpoint) and turns about them by ``bat_turn_rad`` with the
  same smooth step. Projected on one swing axis, a turning bat's velocity is a less clean pulse,
  and the chain to the bat is recovered less often (about 3 clips in 4, against 39 in 40);
* every other joint holds its place relative to the pelvis (plus jitter).

After root-centring and scaling, the analysis sees one velocity pulse per chain node at a
known frame, so the chain, its order and its lags are known: :func:`make_clip` returns them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import erf

from corrkin.io.keypoints import Clip, save_clip
from corrkin.skeleton import JOINTS

CHAIN = ("pelvis", "l_shoulder", "l_elbow", "l_wrist", "bat")

# stance in shoulder widths, image axes (x right, y down), pelvis at the origin
STANCE = {
    "l_ankle": (-0.8, 2.2), "r_ankle": (0.8, 2.2), "l_knee": (-0.6, 1.1), "r_knee": (0.6, 1.1),
    "l_hip": (-0.35, 0.0), "r_hip": (0.35, 0.0), "pelvis": (0.0, 0.0),
    "l_shoulder": (-0.5, -1.7), "r_shoulder": (0.5, -1.7), "l_elbow": (-0.65, -1.0),
    "r_elbow": (0.55, -1.05), "l_wrist": (-0.15, -0.65), "r_wrist": (0.05, -0.7), "bat": (0.9, -1.9),
}
AMPLITUDE = {"pelvis": 0.35, "l_shoulder": 0.55, "l_elbow": 0.9, "l_wrist": 1.4, "bat": 3.2}


@dataclass
class SwingSpec:
    """Everything that defines one synthetic clip."""

    fps: float = 25.0
    duration_s: float = 3.0
    swing_at_s: float = 1.5  # when the pelvis pulse peaks
    delay_s: float = 0.08  # between consecutive chain links
    pulse_s: float = 0.06  # Gaussian width of each velocity pulse
    direction: tuple[float, float] = (-0.8, 0.6)  # swing direction in the image
    shoulder_px: float = 60.0
    pan_px_s: tuple[float, float] = (40.0, 5.0)  # camera pan speed
    zoom: float = 0.1  # relative zoom change over the clip
    jitter_px: float = 0.7
    stride: float = 0.0  # front-foot stride in shoulder widths (0 = none)
    rigid_bat: bool = False  # the bat turns about the hands at fixed length (rendered video)
    bat_turn_rad: float = -2.4  # how far a rigid bat turns (negative: clockwise on screen)
    chain: tuple[str, ...] = field(default=CHAIN)


FRAME_CENTRE = (640.0, 360.0)  # keypoints are in a 1280 x 720 frame


def camera_path(spec: SwingSpec) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame zoom ``(T,)`` and pan in pixels ``(T, 2)``: world (shoulder widths) to image is
    ``world * shoulder_px * zoom - pan + FRAME_CENTRE``."""
    t = np.arange(int(round(spec.duration_s * spec.fps))) / spec.fps
    zoom = 1 + spec.zoom * (t / max(t[-1], 1e-9)) if len(t) > 1 else np.ones(len(t))
    return zoom, np.outer(t, spec.pan_px_s)


def _step(t: np.ndarray, centre: float, width: float) -> np.ndarray:
    """A smooth 0 -> 1 step whose derivative is a Gaussian pulse peaking at ``centre``."""
    return 0.5 * (1 + erf((t - centre) / (np.sqrt(2) * width)))


def make_clip(spec: SwingSpec, seed: int = 0, name: str = "synthetic") -> tuple[Clip, dict]:
    """One clip and its ground truth (``chain``, ``lag_frames`` between links, ``peak_frames``)."""
    rng = np.random.default_rng(seed)
    t_frames = int(round(spec.duration_s * spec.fps))
    t = np.arange(t_frames) / spec.fps
    u = np.asarray(spec.direction, float)
    u /= np.linalg.norm(u)
    nodes = list(JOINTS) + ["bat"]
    rel = np.array([STANCE[n] for n in nodes], float)[None].repeat(t_frames, 0)  # (T, N, 2)
    peak_s = {}
    for k, node in enumerate(spec.chain):
        centre = spec.swing_at_s + k * spec.delay_s
        peak_s[node] = centre
        if node == "bat" and spec.rigid_bat:
            continue
        rel[:, nodes.index(node)] += AMPLITUDE.get(node, 0.5) * _step(t, centre, spec.pulse_s)[:, None] * u
    if spec.rigid_bat and "bat" in spec.chain:
        # a rigid bat: fixed length from the hands, turning about them with the bat's pulse
        hands = rel[:, [nodes.index("l_wrist"), nodes.index("r_wrist")]].mean(1)
        stance = np.asarray(STANCE["bat"]) - np.asarray(STANCE["l_wrist"]) / 2 - np.asarray(STANCE["r_wrist"]) / 2
        length, phi0 = np.hypot(*stance), np.arctan2(stance[1], stance[0])
        phi = phi0 + spec.bat_turn_rad * _step(t, peak_s["bat"], spec.pulse_s)
        rel[:, nodes.index("bat")] = hands + length * np.stack([np.cos(phi), np.sin(phi)], -1)
    # world positions: pelvis over the planted feet, the rest relative to the pelvis
    pelvis_move = rel[:, nodes.index("pelvis")] - np.asarray(STANCE["pelvis"])
    world = rel + pelvis_move[:, None]
    world[:, nodes.index("pelvis")] = rel[:, nodes.index("pelvis")]
    hips = [nodes.index("l_hip"), nodes.index("r_hip")]
    for a in ("l_ankle", "r_ankle"):
        world[:, nodes.index(a)] = STANCE[a]
    if spec.stride:
        world[:, nodes.index("l_ankle")] += spec.stride * _step(t, spec.swing_at_s - 0.25, 0.08)[:, None] * np.array([-1.0, 0.0])
    # keep the hip midpoint on the pelvis so pelvis = hip midpoint exactly
    world[:, hips] += (world[:, [nodes.index("pelvis")]] - world[:, hips].mean(1, keepdims=True))
    # camera: pan and zoom about the frame centre, then jitter
    zoom, pan = camera_path(spec)
    img = world * spec.shoulder_px * zoom[:, None, None] - pan[:, None] + np.asarray(FRAME_CENTRE)
    img += rng.normal(0, spec.jitter_px, img.shape)
    img[:, nodes.index("pelvis")] = img[:, hips].mean(1)
    kps = img[:, : len(JOINTS)].astype(np.float32)
    scores = rng.uniform(0.8, 1.0, (t_frames, len(JOINTS))).astype(np.float32)
    bat = img[:, -1].astype(np.float32)
    clip = Clip(name=name, path=f"<synthetic {name}>", keypoints=kps, scores=scores, bat=bat,
                bat_scores=np.ones(t_frames, np.float32), fps=float(spec.fps), source="synthetic")
    peak_frames = {n: int(round(s * spec.fps)) for n, s in peak_s.items()}
    lags = [int(round(spec.delay_s * spec.fps))] * (len(spec.chain) - 1)
    truth = {"chain": list(spec.chain), "lag_frames": lags, "peak_frames": peak_frames,
             "fps": spec.fps, "delay_s": spec.delay_s}
    return clip, truth


def random_spec(rng: np.random.Generator, **overrides) -> SwingSpec:
    """A varied broadcast-rate clip (25 or 30 fps): length, timing, camera and a delay of 2 or 3
    frames between links drawn at random."""
    fps = float(rng.choice([25.0, 30.0]))
    duration = float(rng.uniform(2.0, 4.0))
    kw = dict(
        fps=fps, duration_s=duration, swing_at_s=float(rng.uniform(0.8, duration - 0.9)),
        delay_s=float(rng.choice([2, 3]) / fps),
        direction=tuple(rng.normal(size=2) + np.array([-1.0, 0.6])),
        pan_px_s=tuple(rng.uniform(-60, 60, 2)), zoom=float(rng.uniform(-0.15, 0.15)),
        jitter_px=float(rng.uniform(0.3, 1.0)), shoulder_px=float(rng.uniform(40, 90)),
    )
    kw.update(overrides)
    return SwingSpec(**kw)


def make_library(out_dir: str | Path, n: int, seed: int = 0, **overrides) -> list[Path]:
    """Write ``n`` varied clips as corrkin ``.npz`` files into ``out_dir`` and their ground truth
    to ``truth.json`` beside that folder (outside it, so the folder holds only clips)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    truths, paths = {}, []
    for i in range(n):
        name = f"synthetic_{i:04d}"
        clip, truth = make_clip(random_spec(rng, **overrides), seed=seed * 100_003 + i, name=name)
        path = out_dir / f"{name}.npz"
        save_clip(path, clip)
        truths[name] = truth
        paths.append(path)
    from corrkin.io.results import write_json

    write_json(truth_path(out_dir), truths)
    return paths


# two shot types with different timing and swing direction, two batters with their own build
SHOTS = {"drive": {"delay_frames": 2, "direction": (-1.0, 0.45)}, "pull": {"delay_frames": 3, "direction": (-0.5, 1.0)}}
BATTERS = {"batter_a": {"shoulder_px": 55.0, "stride": 0.0}, "batter_b": {"shoulder_px": 75.0, "stride": 0.3}}


def make_shot_library(out_dir: str | Path, per_group: int, seed: int = 0, fps: float = 25.0) -> Path:
    """A labelled library: ``per_group`` clips of each shot type (:data:`SHOTS`) by each batter
    (:data:`BATTERS`), swinging at a random moment of clips of random length. Writes the clips,
    ``truth.json`` beside the folder and a manifest ``manifest.csv`` (path, batter, shot, fps)
    in it; returns the manifest's path."""
    import csv

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    truths, rows = {}, []
    for shot, s in SHOTS.items():
        for batter, b in BATTERS.items():
            for k in range(per_group):
                name = f"{shot}_{batter}_{k:03d}"
                duration = float(rng.uniform(2.2, 3.6))
                spec = random_spec(rng, fps=fps, duration_s=duration,
                                   swing_at_s=float(rng.uniform(1.1, duration - 0.8)),
                                   delay_s=s["delay_frames"] / fps,
                                   direction=tuple(np.array(s["direction"]) + rng.normal(0, 0.05, 2)),
                                   shoulder_px=b["shoulder_px"] * float(rng.uniform(0.95, 1.05)), stride=b["stride"])
                clip, truth = make_clip(spec, seed=seed * 100_003 + len(rows), name=name)
                save_clip(out_dir / f"{name}.npz", clip)
                truths[name] = truth | {"shot": shot, "batter": batter}
                rows.append({"path": f"{name}.npz", "batter": batter, "shot": shot, "fps": fps})
    from corrkin.io.results import atomic_write, write_json

    write_json(truth_path(out_dir), truths)
    manifest = out_dir / "manifest.csv"
    with atomic_write(manifest, "w") as f:
        w = csv.DictWriter(f, fieldnames=["path", "batter", "shot", "fps"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return manifest


def truth_path(library_dir: str | Path) -> Path:
    """Where :func:`make_library` writes the ground truth of ``library_dir``."""
    library_dir = Path(library_dir)
    return library_dir.parent / "truth.json"


def chain_truth(truth: dict) -> list[tuple[str, str, int]]:
    """``(src, dst, lag_frames)`` of each chain link."""
    return [(a, b, lag) for a, b, lag in zip(truth["chain"], truth["chain"][1:], truth["lag_frames"])]


def load_truth(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


@dataclass
class RotationSpec:
    """A swing of known segment rotations (for the kinematic sequence, :mod:`corrkin.analysis.biomech`).

    Each segment turns in the image by ``turn_deg`` with a smooth step whose angular velocity is
    a Gaussian pulse of width ``width_s`` peaking at ``swing_at_s + offset_s``: its peak speed
    is ``turn_deg / (width_s sqrt(2 pi))`` degrees per second. The hip and shoulder lines also
    turn about the vertical by ``vertical_deg`` (from square to the camera), seen as their width
    shrinking by ``|cos|``, peaking at the same times."""

    fps: float = 50.0
    duration_s: float = 2.0
    swing_at_s: float = 1.0
    turn_deg: dict = field(default_factory=lambda: {"pelvis": 60.0, "trunk": 80.0, "lead_arm": 120.0, "bat": 200.0})
    width_s: dict = field(default_factory=lambda: {"pelvis": 0.08, "trunk": 0.07, "lead_arm": 0.06, "bat": 0.05})
    offset_s: dict = field(default_factory=lambda: {"pelvis": 0.0, "trunk": 0.04, "lead_arm": 0.08, "bat": 0.12})
    vertical_deg: dict = field(default_factory=lambda: {"pelvis": 70.0, "trunk": 80.0})
    start_deg: dict = field(default_factory=lambda: {"pelvis": 0.0, "trunk": 0.0, "lead_arm": 100.0, "bat": -150.0})
    bat_length_sw: float = 2.1  # an 0.85 m bat at 0.40 m shoulders
    shoulder_px: float = 80.0
    pan_px_s: tuple[float, float] = (30.0, 0.0)
    zoom: float = 0.0  # no zoom (:func:`camera_path`, for the renderer's ground)
    jitter_px: float = 0.3
    # the stroke's other events (:func:`stroke_spec` sets them): the backlift, a turn of the bat
    # before the downswing (degrees, 0: none), and the front (lead, left) foot's stride
    backlift_deg: float = 0.0
    arm_backlift_deg: float = 0.0  # the lead arm's turn with the backlift (the hands rise with the bat)
    backlift_at_s: float = -0.5  # its speed's peak, from swing_at_s
    backlift_width_s: float = 0.12
    stride_sw: float = 0.0  # how far the lead ankle moves, away from the back foot (shoulder widths)
    stride_at_s: float = -0.25
    stride_width_s: float = 0.06


def stroke_spec(fps: float = 50.0, **overrides) -> RotationSpec:
    """A whole stroke: the hands at the waist and the bat hanging behind the back foot, the
    bat and the hands lifting behind the batter (the backlift: hands to shoulder height, the bat
    upright), the downswing through the line of the ball and a follow-through that stays clear
    of the body (a bat laid along a limb is hidden from the bat detector); the front foot
    strides 0.9 shoulder widths (about 0.36 m) before the downswing. Everything stays in a
    1280 x 720 frame. The events' truth is :func:`stroke_truth`."""
    kw = dict(fps=fps, duration_s=2.4, swing_at_s=1.3,
              start_deg={"pelvis": 0.0, "trunk": 0.0, "lead_arm": 110.0, "bat": 100.0},
              turn_deg={"pelvis": 60.0, "trunk": 80.0, "lead_arm": -80.0, "bat": -110.0}, arm_backlift_deg=60.0,
              width_s={"pelvis": 0.08, "trunk": 0.07, "lead_arm": 0.06, "bat": 0.05},
              backlift_deg=160.0, backlift_width_s=0.15, stride_sw=0.9, stride_at_s=-0.12, stride_width_s=0.08)
    return RotationSpec(**(kw | overrides))


def rotation_truth(spec: RotationSpec) -> dict:
    """Each segment's true peak: ``{segment: {"time_s", "speed_deg_s"}}`` (in the image) and the
    hip and shoulder lines' about the vertical (``"vertical"``)."""
    def pulse(deg, width):
        return deg / (width * np.sqrt(2 * np.pi))

    out = {s: {"time_s": spec.swing_at_s + spec.offset_s[s], "speed_deg_s": pulse(spec.turn_deg[s], spec.width_s[s])}
           for s in spec.turn_deg}
    out["vertical"] = {s: {"time_s": spec.swing_at_s + spec.offset_s[s],
                           "speed_deg_s": pulse(spec.vertical_deg[s], spec.width_s[s])} for s in spec.vertical_deg}
    return out


def make_rotation_clip(spec: RotationSpec, seed: int = 0, name: str = "rotation") -> Clip:
    """Keypoints (image pixels) of a body whose segments turn as ``spec`` says: the pelvis and
    shoulder centres still, the lead (left) arm from its shoulder, the bat from the hands."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(spec.duration_s * spec.fps))) / spec.fps

    def angle(seg):
        step = _step(t, spec.swing_at_s + spec.offset_s[seg], spec.width_s[seg])
        lift = _step(t, spec.swing_at_s + spec.backlift_at_s, spec.backlift_width_s)
        lift_deg = {"bat": spec.backlift_deg, "lead_arm": spec.arm_backlift_deg}.get(seg, 0.0)
        return np.radians(spec.start_deg[seg] + spec.turn_deg[seg] * step + lift_deg * lift)

    def unit(a):
        return np.stack([np.cos(a), np.sin(a)], -1)

    def squared(seg):  # |cos| of the turn about the vertical
        step = _step(t, spec.swing_at_s + spec.offset_s[seg], spec.width_s[seg])
        return np.abs(np.cos(np.radians(spec.vertical_deg[seg] * step)))[:, None]

    world = {}
    hips, shoulders = np.zeros((len(t), 2)), np.tile([0.0, -1.7], (len(t), 1))
    u = unit(angle("pelvis")) * 0.35 * squared("pelvis")
    world["l_hip"], world["r_hip"] = hips - u, hips + u
    u = unit(angle("trunk")) * 0.5 * squared("trunk")
    world["l_shoulder"], world["r_shoulder"] = shoulders - u, shoulders + u
    arm = unit(angle("lead_arm"))
    world["l_wrist"] = world["l_shoulder"] + 1.1 * arm
    world["l_elbow"] = world["l_shoulder"] + 0.55 * arm
    world["r_wrist"] = world["l_wrist"] + 0.08 * arm
    world["r_elbow"] = (world["r_shoulder"] + world["r_wrist"]) / 2
    hands = (world["l_wrist"] + world["r_wrist"]) / 2
    world["bat"] = hands + spec.bat_length_sw * unit(angle("bat"))
    for j in ("l_knee", "r_knee", "l_ankle", "r_ankle"):
        world[j] = np.tile(STANCE[j], (len(t), 1)).astype(float)
    stride = spec.stride_sw * _step(t, spec.swing_at_s + spec.stride_at_s, spec.stride_width_s)
    world["l_ankle"][:, 0] -= stride  # the lead foot steps away from the back foot
    world["l_knee"][:, 0] -= stride / 2
    world["pelvis"] = (world["l_hip"] + world["r_hip"]) / 2
    world["nose"] = shoulders + np.array([0.0, -0.5])
    pan = np.outer(t, spec.pan_px_s)
    px = {j: w * spec.shoulder_px - pan + FRAME_CENTRE + rng.normal(0, spec.jitter_px, w.shape) for j, w in world.items()}
    kps = np.stack([px[j] for j in JOINTS], 1).astype(np.float32)
    return Clip(name=name, path=f"<{name}>", keypoints=kps, scores=np.ones(kps.shape[:2], np.float32),
                bat=px["bat"].astype(np.float32), bat_scores=np.ones(len(t), np.float32), fps=spec.fps, source="synth")


REST_SHARE = 0.01  # a movement is at rest where its speed is below this share of its peak


def stroke_truth(spec: RotationSpec, fine_fps: float = 2400.0) -> dict:
    """The true events of ``spec``'s stroke, in seconds from the clip's start, and its true
    stride (shoulder widths), found on the noise-free motion sampled at ``fine_fps`` by the
    definitions :mod:`corrkin.analysis.events` documents, written here as plain loops (a
    movement at rest where its speed is below ``REST_SHARE`` of its peak):

    * ``bat_peak_speed``: the bat tip's peak speed relative to the hips' centre;
    * ``top_of_backlift`` = ``start_of_downswing``: the bat's angle in the image (hands -> tip),
      in the sense it turns at its peak speed, at its least within 1.5 s before its fastest turn;
    * ``start_of_backlift``: going back from the tip's fastest movement before the top, the
      first sample at rest;
    * ``front_foot_toe_off`` / ``front_foot_contact``: either side of the lead ankle's fastest
      movement relative to the back ankle, the first sample at rest;
    * ``end_of_follow_through``: after the peak, the first sample from which the tip stays at
      rest (relative to its post-peak peak)."""
    fine = RotationSpec(**{**spec.__dict__, "fps": fine_fps, "jitter_px": 0.0, "pan_px_s": (0.0, 0.0)})
    clip = make_rotation_clip(fine)
    k, s = clip.keypoints / fine.shoulder_px, 1.0 / fine_fps
    J = {n: i for i, n in enumerate(JOINTS)}
    hips = (k[:, J["l_hip"]] + k[:, J["r_hip"]]) / 2
    tip = clip.bat / fine.shoulder_px - hips
    hands = (k[:, J["l_wrist"]] + k[:, J["r_wrist"]]) / 2
    feet = k[:, J["l_ankle"]] - k[:, J["r_ankle"]]
    tip_speed = np.linalg.norm(np.gradient(tip, s, axis=0), axis=1)
    bat = clip.bat / fine.shoulder_px - hands
    angle = np.unwrap(np.arctan2(bat[:, 1], bat[:, 0]))
    turn = np.gradient(angle, s)
    foot = np.linalg.norm(np.gradient(feet, s, axis=0), axis=1)

    def at_rest(speed, i, step):
        level = REST_SHARE * speed[i]
        while 0 < i < len(speed) - 1 and speed[i] >= level:
            i += step
        return i

    out = {}
    impact = int(np.argmax(tip_speed))
    out["bat_peak_speed"] = impact
    sense = np.sign(turn[impact])
    lo = max(0, impact - int(1.5 * fine_fps))
    w = lo + int(np.argmax(sense * turn[lo:impact + 1]))
    back = max(0, w - int(1.5 * fine_fps))
    top = back + int(np.argmin(sense * angle[back:w + 1]))
    out["top_of_backlift"] = out["start_of_downswing"] = top
    out["start_of_backlift"] = at_rest(tip_speed, int(np.argmax(tip_speed[:top])), -1)
    if spec.stride_sw:
        f = int(np.argmax(foot[:impact]))
        out["front_foot_toe_off"], out["front_foot_contact"] = at_rest(foot, f, -1), at_rest(foot, f, +1)
    after = tip_speed[impact:]
    moving = np.flatnonzero(after >= REST_SHARE * after.max())
    out["end_of_follow_through"] = impact + int(moving[-1]) + 1
    truth = {name: frame * s for name, frame in out.items()}
    return {"events_s": truth, "stride_sw": spec.stride_sw,
            "backlift_height_sw": float((-tip[:impact, 1]).max()), "tip_peak_sw_s": float(tip_speed[impact])}
