"""Validation clips of cricket strokes, generated from first principles (numpy + scipy only).

Nothing here comes from the analysis (``corrkin``) but the joint vocabulary, written out below
(``JOINTS``; the tests check it against ``corrkin/skeleton.py``).

Body
----
A 3-D stick batter of stature H ~ U(1.6, 1.9) m. Segment lengths are fractions of H from
Winter's anthropometric table (D. A. Winter, *Biomechanics and Motor Control of Human
Movement*, 4th ed., Wiley 2009, fig. 4.1, after Drillis & Contini 1966): ankle height 0.039H,
knee 0.285H, hip (greater trochanter) 0.530H, shoulder 0.818H, upper arm 0.186H, forearm 0.146H,
hand 0.108H; hence thigh 0.245H, shank 0.246H, hip-to-shoulder trunk 0.288H. Key points sit at
joint centres, inside Winter's outer breadths: shoulders 0.20H apart (0.77 x his 0.259H),
hips 0.115H apart (0.6 x his 0.191H hip breadth). Each length is scaled by N(1, 0.03), clipped
to +-8 %, per batter. The bat is a rigid 0.85 m stick carried by the lead (top) hand: its grip
point is 0.04H beyond the wrist along the hand, the tip 0.80 m from it; with ``rear_grip`` = 1
the rear hand holds the handle 0.10 m lower (two-link inverse kinematics of the rear arm, its
elbow bending toward where the arm's own angles put it); with 0 the rear arm is free.

Rig and motion
--------------
Forward kinematics in a batter frame (z up; the batter faces +y, the camera's side, in the
stance; x runs along the pitch, the bowler and the lead side at -x), built for a right-hander
and mirrored (x -> -x, left and right names exchanged) for a left-hander. Each degree of freedom
belongs to a *driver*: ``pelvis`` (translation; yaw about a vertical axis through the lead hip's
side; two tilts), ``trunk`` (yaw about the pelvis's vertical, forward and side bend),
``lead_shoulder``/``rear_shoulder`` (azimuth, elevation, axial rotation of the upper arm in a
frame that turns with the thorax and is upright in the stance), ``lead_elbow``/``rear_elbow``
(flexion), ``lead_wrist`` (cock and deviation of the hand that carries the bat),
``lead_ankle``/``rear_ankle`` (foot displacement, with a lift) and ``lead_knee``/``rear_knee``
(swivel of the knee about the hip-ankle line; knees by two-link inverse kinematics, pointing
forward and turning with half the pelvis's yaw; a foot beyond the leg's reach is dragged).

Every driver is its stance value plus a sum of brief pulses (60-400 ms). A pulse moves its
driver by ``amp`` along the regularised incomplete beta function I_s(a, b), s = time through the
pulse in [0, 1]: a beta-shaped speed profile, minimum jerk (a = b = 3: speed 30 s^2 (1-s)^2) or
asymmetric (a != b in [2.2, 5], |a - b| >= 0.8). A *reversal* adds ``rev * bump(s)``, ``rev``
opposite to ``amp`` and ``bump`` = s^p (1-s)^2 scaled to 1 at s = p / (p + 2): the driver moves
back first, then forward (a backlift then a downswing). No profile is Gaussian. A pulse's *peak*
is when its driver's speed is greatest.

Camera
------
A pinhole camera, 1280x720 or 1920x1080, square of the wicket on the batter's front (off) side:
azimuth 0 sees the chest in the stance, positive azimuths turn it toward the bowler (default
U(-20, 45) deg, ``view``); 4-15 m away, 0.8-1.6 m high, aimed at 0.55H; focal length such that
the standing batter is ``batter_px`` ~ U(250, min(700, 0.62 x image height)) px tall; the
principal point shifted so the batter sits off centre. Clips pan (probability ``p_pan`` = 0.5:
log-uniform 3-100 px/s, capped to a quarter of the width over the clip, with a slow wobble) and
zoom (``p_zoom`` = 0.3: scale 1 + U(-0.15, 0.15) reached with a minimum-jerk ramp) about the
image centre.

Pose-model errors
-----------------
On the projected frames, in this order; each switchable with ``errors=`` (``True`` all, ``False``
none, or a dict of ``jitter``, ``swap``, ``dropout``, ``glitch``: ``True`` for the default rate
drawn per clip, a number for that rate, ``False`` for none); the clip's values are in
``truth["error_rates"]``:

- scores, always: per joint U(0.85, 0.98), less up to 0.3 on the far side of the body (depth
  behind the pelvis over 0.6 shoulder widths), plus N(0, 0.03), clipped to [0.6, 1.0]; the bat
  tip U(0.80, 0.95) less up to 0.25 of motion blur (its image speed over a quarter of the
  batter's height per frame), clipped to [0.6, 1.0], and U(0, 0.05) outside the image;
- ``jitter``: Student-t, 3 degrees of freedom, scale U(1, 3) px x batter_px / 450, independent
  per joint, frame and axis (the bat tip 1.5 x that);
- ``swap``: in a share of frames (default wrists 5 %, elbows 2 %, legs 3 %: knees and ankles
  together), in bursts of 1-6 frames, left and right exchange positions and scores;
- ``dropout``: bursts, U(0.05, 0.25) per joint (and bat tip) per second, each log-uniform
  20-300 ms (at least 2 frames), score U(0, 0.05), position a random point in the body's box
  (expanded 25 %) wandering 2 px a frame; never NaN;
- ``glitch``: U(0.5, 2) % of joint-frames (and bat-frames) outside dropouts jump 20-150 px in a
  random direction with a score U(0.3, 0.9).

Clip kinds
----------
- ``null_uniform``: every driver makes 1-3 pulses at independent times, uniform over the clip;
  no driver depends on another (``rear_grip`` = 0; the bat rides on the lead hand).
- ``null_cotimed``: the same, each pulse peaking within +-0.3 s of one ``swing_s`` per clip.
- ``chain``: stance, backlift, downswing, follow-through. The downswing is the chain pelvis ->
  lead shoulder -> lead elbow -> lead wrist -> bat, driven, in order, by the pelvis's yaw (about
  the lead hip, with a forward shift), the trunk's yaw, the lead upper arm's pull-down, the lead
  elbow's extension and the lead wrist's uncocking; link delays drawn per clip from
  ``delay_range``. While a link turns, the next distal joint lags (turns back by 20-90 % of it)
  and catches up in its own pulse. Peak angular speeds rise distally (pelvis 4-5.5, trunk 6-8,
  arm 6-8, elbow 15-20, wrist 25-32 rad/s); then each chain pulse is retimed (same amplitude and
  peak time) until its node's image burst stands out (``gain`` x any other burst of that node),
  within caps on angular speed. The stride, knees, rear ankle and rear arm make pulses of their
  own. ``p_reversal`` of the strokes cock and uncock the bat in one reversal pulse.
- ``library``: one batter (proportions, handedness, stance, camera within a few per cent)
  making 10-20 ``chain`` strokes: the batter's own link delays plus N(0, 10 ms) per swing, the
  impact time, amplitudes (5 %) and other pulses varying per swing, and the drivers in
  ``uncoupled`` (default rear knee drive and lead-foot stride) each peaking at the bat pulse's peak +
  U(-0.3, 0.3) s, drawn independently per swing.

Truth
-----
``clip["truth"]``, from the 3-D motion and the camera alone:

- ``activation_s[node]`` (all 14 nodes): the time, in s from the first frame, of the node's
  greatest speed in the noise-free image trajectory (pan and zoom included, sampled at >= 2000
  Hz, an integer multiple of the frame rate), the node taken relative to the pelvis (the hips'
  midpoint), the pelvis itself relative to the ankles' midpoint, over the whole clip;
  ``peak_speed_px_s[node]``: that speed.
- ``impact_s``: the time of the bat tip's greatest 3-D speed in the downswing (from the pelvis
  pulse's start to 0.15 s after the bat pulse's peak); nulls: over the whole clip.
  ``impact_speed_m_s``: that speed.
- ``chain``: the chain's node names in order (lead side resolved), [] for nulls;
  ``designed_peak_s[node]``: the peak time of each chain node's driving pulse;
  ``delays_s["a->b"]``: designed delay, ``designed_peak_s[b] - designed_peak_s[a]``.
- ``pulses``: every pulse (driver, node it moves, role, start, duration, peak, shape, amplitude).
- ``swapped[group]``: bool (T,), the frames where that group's left and right were exchanged;
  ``dropout``, ``glitch``: bool (T, 14) (13 joints, then the bat).
- ``clean_keypoints`` (T, 13, 2), ``clean_bat`` (T, 2): the noise-free frames; ``points3d``
  (T, 14, 3): the nodes in metres, batter frame.

Designed delays are the plan; activation times are what an ideal analysis of the image could
see. Where pulses overlap, a node's speed sums its own and its proximal neighbours' pulses and
projection changes with the pose (the shoulders turn partly in depth), so activation differences
are near the designed delays, not equal. With well-separated, short, small pulses
(``chain(..., delay_range=(0.2, 0.25), dur_scale=0.3, amp_scale=0.3, others=False,
p_reversal=0)``) they agree within a few ms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import beta as _beta_fn
from scipy.special import betainc

JOINTS: tuple[str, ...] = (
    "l_ankle", "r_ankle", "l_knee", "r_knee", "l_hip", "r_hip", "pelvis",
    "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
)
NODES: tuple[str, ...] = JOINTS + ("bat",)
_NI = {n: i for i, n in enumerate(NODES)}
_MIRROR = [_NI[n.replace("l_", "#").replace("r_", "l_").replace("#", "r_")] for n in NODES]

FPS_CHOICES = (25.0, 50.0, 120.0, 240.0)
KINDS = ("null_uniform", "null_cotimed", "chain", "library")
BAT_LENGTH = 0.85
FINE_HZ = 2000.0

# Winter (2009) fractions of stature.
WINTER = dict(ankle_h=0.039, knee_h=0.285, hip_h=0.530, shoulder_h=0.818, upper_arm=0.186,
              forearm=0.146, hand=0.108, shoulder_breadth=0.259, hip_breadth=0.191)

DRIVERS: dict[str, int] = {
    "pelvis": 6, "trunk": 3, "lead_shoulder": 3, "lead_elbow": 1, "lead_wrist": 2,
    "rear_shoulder": 3, "rear_elbow": 1, "lead_ankle": 3, "rear_ankle": 3, "lead_knee": 1,
    "rear_knee": 1,
}
# The node each driver moves most directly ("lead"/"rear" resolved per handedness).
DRIVER_NODE = {
    "pelvis": "pelvis", "trunk": "lead_shoulder", "lead_shoulder": "lead_elbow",
    "lead_elbow": "lead_wrist", "lead_wrist": "bat", "rear_shoulder": "rear_elbow",
    "rear_elbow": "rear_wrist", "lead_ankle": "lead_ankle", "rear_ankle": "rear_ankle",
    "lead_knee": "lead_knee", "rear_knee": "rear_knee",
}
CHAIN_DRIVERS = ("pelvis", "trunk", "lead_shoulder", "lead_elbow", "lead_wrist")
CHAIN_NODES = ("pelvis", "lead_shoulder", "lead_elbow", "lead_wrist", "bat")
# The fastest a chain link may turn (rad/s) when it is retimed to stand out at its node.
OMEGA_MAX = {"pelvis": 12.0, "trunk": 18.0, "lead_shoulder": 18.0, "lead_elbow": 30.0, "lead_wrist": 42.0}

# Null pulses: |amplitude| range per degree of freedom (lengths in units of H, angles in rad).
_NULL_AMP = {
    "pelvis": [(0.01, 0.05), (0.0, 0.02), (0.0, 0.015), (0.15, 0.6), (0.0, 0.08), (0.0, 0.06)],
    "trunk": [(0.2, 0.7), (0.0, 0.25), (0.0, 0.12)],
    "lead_shoulder": [(0.1, 0.5), (0.3, 1.2), (0.0, 0.3)],
    "rear_shoulder": [(0.1, 0.5), (0.3, 1.0), (0.0, 0.3)],
    "lead_elbow": [(0.3, 1.1)], "rear_elbow": [(0.3, 1.1)],
    "lead_wrist": [(0.4, 1.4), (0.0, 0.3)],
    "lead_ankle": [(0.03, 0.12), (0.0, 0.03), (0.0, 0.0)],
    "rear_ankle": [(0.02, 0.08), (0.0, 0.03), (0.0, 0.0)],
    "lead_knee": [(0.25, 0.7)], "rear_knee": [(0.25, 0.7)],
}
# Soft limits on the cumulative value of each degree of freedom (relative to the stance for
# translations, absolute for angles); a null pulse that would leave them is reversed or shrunk.
_LIMITS = {
    "pelvis": [(-0.08, 0.08), (-0.04, 0.04), (-0.03, 0.01), (-0.9, 1.3), (-0.1, 0.3), (-0.15, 0.15)],
    "trunk": [(-0.8, 1.3), (0.0, 0.8), (-0.3, 0.3)],
    "lead_shoulder": [(-2.2, -0.3), (-1.8, 2.2), (-0.6, 0.6)],
    "rear_shoulder": [(-0.6, 1.6), (-0.8, 2.0), (-0.6, 0.6)],
    "lead_elbow": [(0.0, 2.3)], "rear_elbow": [(0.1, 2.3)],
    "lead_wrist": [(-1.2, 2.2), (-0.4, 0.4)],
    "lead_ankle": [(-0.15, 0.05), (-0.05, 0.05), (0.0, 0.0)],
    "rear_ankle": [(-0.08, 0.05), (-0.05, 0.05), (0.0, 0.0)],
    "lead_knee": [(-0.6, 0.9)], "rear_knee": [(-0.6, 0.9)],
}
_TRANSLATION = {"pelvis": (0, 1, 2), "lead_ankle": (0, 1, 2), "rear_ankle": (0, 1, 2)}

SWAP_GROUPS = {
    "wrists": (("l_wrist", "r_wrist"),),
    "elbows": (("l_elbow", "r_elbow"),),
    "legs": (("l_knee", "r_knee"), ("l_ankle", "r_ankle")),
}
DEFAULT_SWAP_SHARE = {"wrists": 0.05, "elbows": 0.02, "legs": 0.03}


# --------------------------------------------------------------------------------------------
# pulses

@dataclass
class Pulse:
    """One pulse of a driver: ``amp`` (per degree of freedom) reached with a beta(a, b) speed
    profile over ``dur`` s, its speed greatest at ``t_peak``. ``rev`` (parallel to ``amp``, usually
    opposite) adds ``rev * bump(s)``, a bump peaking at s = p / (p + 2) (``rev_p`` = p): a reversal.
    ``lift`` is a symmetric bump on other degrees of freedom (an ankle's lift), not counted in
    the peak."""

    driver: str
    t_peak: float
    dur: float
    amp: np.ndarray
    a: float = 3.0
    b: float = 3.0
    rev: np.ndarray | None = None
    rev_p: float = 2.0
    lift: np.ndarray | None = None
    role: str = "own"
    tie: str = ""  # a lag pulse: the chain driver whose pulse it shares (timing and shape)
    min_dur: float = 0.0  # retiming (chain pulses) keeps it at least this long
    s_peak: float = field(init=False)
    peak_speed: float = field(init=False)  # greatest |d position / d s| (divide by dur for per second)

    def __post_init__(self):
        self.amp = np.asarray(self.amp, float)
        if self.rev is not None:
            self.rev = np.asarray(self.rev, float)
        self.s_peak, self.peak_speed = _shape_peak(self.a, self.b, self.amp, self.rev, self.rev_p)

    @property
    def t0(self) -> float:
        return self.t_peak - self.s_peak * self.dur

    def shape(self) -> str:
        if self.rev is not None:
            return f"reversal(a={self.a:.2f},b={self.b:.2f},p={self.rev_p:.2f})"
        if self.a == self.b == 3.0:
            return "minimum_jerk"
        return f"beta(a={self.a:.2f},b={self.b:.2f})"


_S = np.linspace(0.0, 1.0, 4001)


def _pdf(a: float, b: float, s: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((s > 0) & (s < 1), s ** (a - 1) * (1 - s) ** (b - 1) / _beta_fn(a, b), 0.0)


def _bump(p: float, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s^p (1-s)^2 scaled to 1 at its top s = p / (p + 2), and its derivative."""
    m = p / (p + 2.0)
    k = 1.0 / (m ** p * (1 - m) ** 2)
    return k * s ** p * (1 - s) ** 2, k * (p * s ** (p - 1) * (1 - s) ** 2 - 2 * s ** p * (1 - s))


def _shape_peak(a, b, amp, rev, rev_p) -> tuple[float, float]:
    """(s of the greatest speed, that speed |d position / d s|)."""
    if rev is None:
        m = (a - 1) / (a + b - 2)
        return m, float(_pdf(a, b, np.array([m]))[0] * np.linalg.norm(amp))
    v = np.outer(_pdf(a, b, _S), amp) + np.outer(_bump(rev_p, _S)[1], rev)
    sp = np.linalg.norm(v, axis=1)
    i = int(np.argmax(sp))
    return float(_S[i]), float(sp[i])


def _draw_shape(rng, p_minjerk=0.4) -> tuple[float, float]:
    """(a, b): minimum jerk (a = b = 3) or an asymmetric beta speed profile."""
    if rng.random() < p_minjerk:
        return 3.0, 3.0
    while True:
        a, b = rng.uniform(2.2, 5.0, 2)
        if abs(a - b) >= 0.8:
            return float(a), float(b)


def _draw_reversal(rng, amp, p_reversal):
    """None, or (rev, p) for a reversal: back by 0.2-0.8 of |amp| first."""
    if rng.random() >= p_reversal:
        return None, 2.0
    return -rng.uniform(0.2, 0.8) * np.asarray(amp, float), float(rng.uniform(2.0, 4.0))


def _eval_drivers(t: np.ndarray, base: dict, pulses: list[Pulse]) -> dict[str, np.ndarray]:
    q = {d: np.repeat(np.asarray(base[d], float)[None, :], len(t), 0) for d in DRIVERS}
    for p in pulses:
        t0, t1 = p.t0, p.t0 + p.dur
        i0, i1 = np.searchsorted(t, [t0, t1])
        if i1 > i0:
            s = (t[i0:i1] - t0) / p.dur
            q[p.driver][i0:i1] += np.outer(betainc(p.a, p.b, s), p.amp)
            if p.rev is not None:
                q[p.driver][i0:i1] += np.outer(_bump(p.rev_p, s)[0], p.rev)
            if p.lift is not None:
                q[p.driver][i0:i1] += np.outer(_bump(2.0, s)[0], p.lift)
        q[p.driver][i1:] += p.amp
    return q


# --------------------------------------------------------------------------------------------
# body and kinematics

@dataclass
class Body:
    H: float
    thigh: float
    shank: float
    ankle_h: float
    hip_w: float
    sh_w: float
    trunk: float
    upper_arm: float
    forearm: float
    grip: float  # wrist to the grip point along the hand

    def as_dict(self) -> dict:
        return {k: round(float(v), 4) for k, v in self.__dict__.items()}


def _make_body(rng, height=None) -> Body:
    H = float(rng.uniform(1.6, 1.9)) if height is None else float(height)
    v = lambda: float(np.clip(rng.normal(1.0, 0.03), 0.92, 1.08))  # noqa: E731
    W = WINTER
    return Body(H=H, thigh=(W["hip_h"] - W["knee_h"]) * H * v(),
                shank=(W["knee_h"] - W["ankle_h"]) * H * v(), ankle_h=W["ankle_h"] * H,
                hip_w=0.6 * W["hip_breadth"] * H * v(), sh_w=0.77 * W["shoulder_breadth"] * H * v(),
                trunk=(W["shoulder_h"] - W["hip_h"]) * H * v(), upper_arm=W["upper_arm"] * H * v(),
                forearm=W["forearm"] * H * v(), grip=0.04 * H)


def _stance(rng, body: Body) -> dict:
    """Stance values of every driver (a right-hander), plus the fixed geometry."""
    H = body.H
    width = rng.uniform(0.19, 0.27) * H
    leg = body.thigh + body.shank
    hip_z = body.ankle_h + np.sqrt(max((0.93 * leg) ** 2 - (0.5 * width - 0.5 * body.hip_w) ** 2, 0.01))
    base = {
        "pelvis": np.array([0.0, 0.0, 0.0, rng.uniform(-0.1, 0.15), rng.uniform(0.05, 0.15), 0.0]),
        "trunk": np.array([rng.uniform(-0.1, 0.05), rng.uniform(0.25, 0.45), rng.uniform(-0.08, 0.02)]),
        "lead_shoulder": np.array([rng.uniform(-1.4, -1.15), rng.uniform(0.3, 0.5), 0.0]),
        "lead_elbow": np.array([rng.uniform(0.15, 0.35)]),
        "lead_wrist": np.array([rng.uniform(0.0, 0.2), rng.uniform(-0.1, 0.1)]),
        "rear_shoulder": np.array([rng.uniform(0.4, 0.8), rng.uniform(0.2, 0.4), 0.0]),
        "rear_elbow": np.array([rng.uniform(0.5, 0.9)]),
        "lead_ankle": np.zeros(3), "rear_ankle": np.zeros(3),
        "lead_knee": np.zeros(1), "rear_knee": np.zeros(1),
    }
    geo = dict(
        width=width, hip_z=hip_z, pivot_frac=rng.uniform(0.6, 1.0),
        centre=np.array([rng.uniform(-0.02, 0.04) * H, 0.0, hip_z]),
        lead_ankle=np.array([-0.5 * width, rng.uniform(-0.02, 0.03) * H, body.ankle_h]),
        rear_ankle=np.array([0.5 * width, rng.uniform(-0.02, 0.03) * H, body.ankle_h]),
        knee_out=rng.uniform(0.1, 0.3), bat_angle=rng.uniform(-0.35, -0.15),
    )
    geo["arm_tilt"] = float(base["trunk"][1])  # arms' reference frame: upright in the stance
    return dict(base=base, geo=geo)


def _c(x):
    return np.cos(x), np.sin(x)


def _rx(th):
    c, s = _c(th)
    o, z = np.ones_like(th), np.zeros_like(th)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _ry(th):
    c, s = _c(th)
    o, z = np.ones_like(th), np.zeros_like(th)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _rz(th):
    c, s = _c(th)
    o, z = np.ones_like(th), np.zeros_like(th)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def _mv(R, v):
    """(N,3,3) x (3,) or (N,3) -> (N,3)."""
    if v.ndim == 1:
        return R @ v
    return np.einsum("nij,nj->ni", R, v)


def _unit(v, fallback=None):
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    out = v / np.maximum(n, 1e-9)
    if fallback is not None:
        out = np.where(n > 1e-6, out, fallback)
    return out


def _two_link(root, end, l1, l2, pole):
    """Middle joint of a two-link limb from ``root`` toward ``end`` bending toward ``pole``;
    returns (middle, reached end) (the end pulled in when out of reach)."""
    d = end - root
    dist = np.linalg.norm(d, axis=-1, keepdims=True)
    u = d / np.maximum(dist, 1e-9)
    L, k = l1 + l2, 0.96 * (l1 + l2)  # past 96 % of full reach the end is pulled in smoothly
    dc = np.where(dist > k, k + (L - k) * np.tanh((dist - k) / (L - k)), dist)
    dc = np.clip(dc, abs(l1 - l2) + 1e-4, L * (1 - 1e-4))
    a = (l1 ** 2 - l2 ** 2 + dc ** 2) / (2 * dc)
    h = np.sqrt(np.maximum(l1 ** 2 - a ** 2, 0.0))
    n = pole - np.sum(pole * u, -1, keepdims=True) * u
    n = _unit(n, fallback=np.array([0.0, 1.0, 0.0]))
    return root + a * u + h * n, root + dc * u


def _forward(q: dict, body: Body, geo: dict, rear_grip: float, with_grip: bool = False):
    """Node positions (N, 14, 3), batter frame, right-handed batter (lead = left); with
    ``with_grip``, also the lead hand's grip point on the handle (N, 3)."""
    N = len(q["pelvis"])
    pe, tr = q["pelvis"], q["trunk"]
    R_P = _rz(pe[:, 3]) @ _rx(-pe[:, 4]) @ _ry(pe[:, 5])
    H = body.H
    # the pivot sits at the lead hip's side of the centre; translations are in units of H
    pivot0 = geo["centre"] + np.array([-geo["pivot_frac"] * 0.5 * body.hip_w, 0.0, 0.0])
    pivot = pivot0 + pe[:, :3] * H
    centre = pivot + _mv(R_P, np.array([geo["pivot_frac"] * 0.5 * body.hip_w, 0.0, 0.0]))
    l_hip = centre + _mv(R_P, np.array([-0.5 * body.hip_w, 0.0, 0.0]))
    r_hip = centre + _mv(R_P, np.array([0.5 * body.hip_w, 0.0, 0.0]))
    R_T = R_P @ _rz(tr[:, 0]) @ _rx(-tr[:, 1]) @ _ry(tr[:, 2])
    l_sh = centre + _mv(R_T, np.array([-0.5 * body.sh_w, 0.0, body.trunk]))
    r_sh = centre + _mv(R_T, np.array([0.5 * body.sh_w, 0.0, body.trunk]))

    down = np.array([0.0, 0.0, -1.0])

    def arm(sh, ang, flex):
        R_U = R_T @ _rx(np.full(N, geo["arm_tilt"])) @ _rz(ang[:, 0]) @ _rx(ang[:, 1]) @ _rz(ang[:, 2])
        el = sh + _mv(R_U, down * body.upper_arm)
        R_F = R_U @ _rx(flex[:, 0])
        wr = el + _mv(R_F, down * body.forearm)
        return el, wr, R_F

    l_el, l_wr, R_F = arm(l_sh, q["lead_shoulder"], q["lead_elbow"])
    R_H = R_F @ _rx(q["lead_wrist"][:, 0]) @ _ry(q["lead_wrist"][:, 1])
    grip = l_wr + _mv(R_H, down * body.grip)
    ba = geo["bat_angle"]
    bdir = _mv(R_H, np.array([0.0, np.sin(ba), -np.cos(ba)]))
    tip = grip + (BAT_LENGTH - 0.05) * bdir
    r_el_fk, r_wr_fk, _ = arm(r_sh, q["rear_shoulder"], q["rear_elbow"])
    if rear_grip > 0:
        handle = grip + 0.10 * bdir
        target = handle + body.grip * _unit(r_sh - handle)
        r_target = (1 - rear_grip) * r_wr_fk + rear_grip * target
        r_el, r_wr = _two_link(r_sh, r_target, body.upper_arm, body.forearm, r_el_fk - r_sh)
    else:
        r_el, r_wr = r_el_fk, r_wr_fk

    l_an = geo["lead_ankle"] + q["lead_ankle"] * H
    r_an = geo["rear_ankle"] + q["rear_ankle"] * H
    fwd = np.array([0.0, 1.0, 0.0])
    yaw_half = 0.5 * pe[:, 3]
    l_pole = _mv(_rz(yaw_half + geo["knee_out"] + q["lead_knee"][:, 0]), fwd)
    r_pole = _mv(_rz(yaw_half - geo["knee_out"] + q["rear_knee"][:, 0]), fwd)
    l_kn, l_an = _two_link(l_hip, l_an, body.thigh, body.shank, l_pole)  # a foot beyond reach drags
    r_kn, r_an = _two_link(r_hip, r_an, body.thigh, body.shank, r_pole)

    pts = np.empty((N, 14, 3))
    for name, v in (("l_ankle", l_an), ("r_ankle", r_an), ("l_knee", l_kn), ("r_knee", r_kn),
                    ("l_hip", l_hip), ("r_hip", r_hip), ("pelvis", centre), ("l_shoulder", l_sh),
                    ("r_shoulder", r_sh), ("l_elbow", l_el), ("r_elbow", r_el), ("l_wrist", l_wr),
                    ("r_wrist", r_wr), ("bat", tip)):
        pts[:, _NI[name]] = v
    return (pts, grip) if with_grip else pts


# --------------------------------------------------------------------------------------------
# camera

@dataclass
class Camera:
    W: int
    H: int
    f: float
    C: np.ndarray
    R: np.ndarray  # rows: image right, image down, forward
    cx: float
    cy: float
    batter_px: float
    az: float
    dist: float
    pan_v: np.ndarray = field(default_factory=lambda: np.zeros(2))
    pan_wobble: tuple = (0.0, 1.0, 0.0)
    zoom: tuple = (0.0, 0.0, 1.0)  # (zeta, start, length)
    duration: float = 1.0

    def offsets(self, t):
        amp, period, phase = self.pan_wobble
        wob = amp * np.sin(2 * np.pi * t / period + phase)
        d = np.asarray(self.pan_v)
        pan = np.outer(t - 0.5 * self.duration, d) + np.outer(wob, _unit(d[None])[0] if np.any(d) else d)
        zeta, t0, ln = self.zoom
        s = np.clip((t - t0) / max(ln, 1e-6), 0, 1)
        z = 1.0 + zeta * (10 * s ** 3 - 15 * s ** 4 + 6 * s ** 5)
        return pan, z

    def project(self, pts, t):
        """(N, K, 3) -> (N, K, 2) pixels, (N, K) depth (m)."""
        p = (pts - self.C) @ self.R.T
        depth = p[..., 2]
        u = self.cx + self.f * p[..., 0] / depth
        v = self.cy + self.f * p[..., 1] / depth
        pan, z = self.offsets(t)
        u = 0.5 * self.W + z[:, None] * (u - 0.5 * self.W) + pan[:, None, 0]
        v = 0.5 * self.H + z[:, None] * (v - 0.5 * self.H) + pan[:, None, 1]
        return np.stack([u, v], -1), depth

    def as_dict(self) -> dict:
        return dict(width=self.W, height=self.H, focal_px=round(self.f, 2), distance_m=round(self.dist, 3),
                    azimuth_deg=round(math.degrees(self.az), 2), batter_px=round(self.batter_px, 1),
                    principal=(round(self.cx, 1), round(self.cy, 1)),
                    pan_px_s=[round(float(x), 2) for x in self.pan_v],
                    zoom=dict(scale_change=round(self.zoom[0], 4), start_s=round(self.zoom[1], 3),
                              length_s=round(self.zoom[2], 3)))


def _camera_params(rng, body: Body, view=(-20.0, 45.0)) -> dict:
    W, Hh = ((1280, 720), (1920, 1080))[int(rng.integers(2))]
    hpx = rng.uniform(250, min(700, 0.62 * Hh))
    return dict(W=W, Hh=Hh, hpx=hpx, az=math.radians(rng.uniform(*view)), dist=rng.uniform(4.0, 15.0),
                cam_h=rng.uniform(0.8, 1.6), aim=np.array([rng.uniform(-0.1, 0.1), 0.1, 0.55 * body.H]),
                off=(rng.uniform(-0.15, 0.15) * W, rng.uniform(0.05, 0.12) * Hh))


def _build_camera(rng, prm: dict, body: Body, duration: float, p_pan: float, p_zoom: float) -> Camera:
    az, d = prm["az"], prm["dist"]
    C = np.array([-d * np.sin(az), d * np.cos(az), prm["cam_h"]])
    fwd = _unit(prm["aim"] - C)
    right = _unit(np.cross(fwd, [0.0, 0.0, 1.0]))
    down = np.cross(fwd, right)
    f = prm["hpx"] * d / body.H
    cam = Camera(W=prm["W"], H=prm["Hh"], f=f, C=C, R=np.stack([right, down, fwd]),
                 cx=0.5 * prm["W"] + prm["off"][0], cy=0.5 * prm["Hh"] + prm["off"][1],
                 batter_px=prm["hpx"], az=az, dist=d, duration=duration)
    u_pan, u_zoom = rng.random(2)
    if u_pan < p_pan:
        speed = min(math.exp(rng.uniform(math.log(3.0), math.log(100.0))), 0.25 * cam.W / duration)
        ang = rng.normal(0.0, 0.35) + (math.pi if rng.random() < 0.5 else 0.0)
        cam.pan_v = speed * np.array([math.cos(ang), math.sin(ang)])
        cam.pan_wobble = (rng.uniform(0.0, 0.2) * speed * 0.3, rng.uniform(1.5, 4.0), rng.uniform(0, 2 * np.pi))
    if u_zoom < p_zoom:
        t0 = rng.uniform(0.0, 0.5 * duration)
        cam.zoom = (float(rng.uniform(-0.15, 0.15)), t0, rng.uniform(0.3 * duration, duration - t0))
    return cam


# --------------------------------------------------------------------------------------------
# clip plans

def _resolve(name: str, hand: str) -> str:
    """'lead_x'/'rear_x' -> the anatomical node name for that handedness."""
    lead, rear = ("l", "r") if hand == "right" else ("r", "l")
    if name.startswith("lead_"):
        return f"{lead}_{name[5:]}"
    if name.startswith("rear_"):
        return f"{rear}_{name[5:]}"
    return name


def _null_pulse(rng, driver, t_peak, q_now, base, p_reversal):
    a, b = _draw_shape(rng)
    rng_amp = _NULL_AMP[driver]
    amp = np.array([rng.uniform(lo, hi) for lo, hi in rng_amp]) * rng.choice([-1.0, 1.0], len(rng_amp))
    lim = _LIMITS[driver]
    for k, (lo, hi) in enumerate(lim):
        ref = q_now[k]
        if not lo <= ref + amp[k] <= hi:
            amp[k] = -amp[k]
        if not lo <= ref + amp[k] <= hi:
            amp[k] = np.clip(ref + amp[k], lo, hi) - ref
    lift = None
    if driver.endswith("ankle"):
        lift = np.array([0.0, 0.0, rng.uniform(0.01, 0.04)])
    dur = rng.uniform(0.06, 0.4)
    rev, rev_p = _draw_reversal(rng, amp, p_reversal)
    return Pulse(driver, float(t_peak), float(dur), amp, a, b, rev, rev_p, lift, role="own")


def _plan_null(rng, duration, cotimed: bool, p_reversal: float, base: dict):
    pulses, swing = [], None
    if cotimed:
        swing = float(rng.uniform(min(0.6, 0.3 * duration), max(duration - 0.6, 0.7 * duration)))
    for drv in DRIVERS:
        n = int(rng.integers(1, 4))
        times = swing + rng.uniform(-0.3, 0.3, n) if cotimed else rng.uniform(0.0, duration, n)
        q_now = np.array(base[drv], float).copy()
        for k in range(len(q_now)):
            if k in _TRANSLATION.get(drv, ()):
                q_now[k] = 0.0
        for tp in np.sort(times):
            p = _null_pulse(rng, drv, tp, q_now, base, p_reversal)
            q_now = q_now + p.amp
            pulses.append(p)
    return pulses, swing


@dataclass
class StrokeStyle:
    """A batter's own stroke: link amplitudes and peak speeds, backlift and follow-through."""

    delays: np.ndarray  # (4,) s
    amp: dict
    omega: dict
    shapes: dict
    backlift: dict
    follow: dict
    bl_gap: float
    bl_dur: float
    ft_gap: float
    ft_dur: float
    plane_k: float
    lag: dict


def _draw_style(rng, base, delay_range, p_reversal) -> StrokeStyle:
    delays = rng.uniform(*delay_range, 4)
    # downswing amplitudes (rad) and peak angular speeds (rad/s), increasing distally
    amp = dict(pelvis=rng.uniform(0.4, 0.7), trunk=rng.uniform(0.3, 0.55), lead_shoulder=rng.uniform(0.6, 0.9),
               lead_elbow=rng.uniform(1.0, 1.5), lead_wrist=rng.uniform(1.3, 1.7))
    omega = dict(pelvis=rng.uniform(4.0, 5.5), trunk=rng.uniform(6.0, 8.0), lead_shoulder=rng.uniform(6.0, 8.0),
                 lead_elbow=rng.uniform(15.0, 20.0), lead_wrist=rng.uniform(25.0, 32.0))
    shapes = {}
    for d in CHAIN_DRIVERS:
        a, b = _draw_shape(rng, p_minjerk=0.5)
        rev_p = float(rng.uniform(5.0, 8.0)) if (d == "lead_wrist" and rng.random() < p_reversal) else 0.0
        shapes[d] = (a, b, rev_p)
    backlift = dict(trunk=-rng.uniform(0.1, 0.25), pelvis=-rng.uniform(0.0, 0.1),
                    sh_top=rng.uniform(0.6, 0.9), sh_az=-rng.uniform(0.0, 0.25),
                    el_end=rng.uniform(0.05, 0.2), wr_end=rng.uniform(-0.3, 0.1))
    follow = dict(sh=-rng.uniform(1.0, 1.5), sh_az=rng.uniform(0.0, 0.4), el=rng.uniform(0.2, 0.6),
                  wr=-rng.uniform(0.8, 1.3), trunk=rng.uniform(0.1, 0.25), pelvis=rng.uniform(0.05, 0.15))
    return StrokeStyle(delays=delays, amp=amp, omega=omega, shapes=shapes, backlift=backlift, follow=follow,
                       bl_gap=rng.uniform(0.35, 0.5), bl_dur=rng.uniform(0.28, 0.38),
                       ft_gap=rng.uniform(0.03, 0.1), ft_dur=rng.uniform(0.28, 0.38), plane_k=rng.uniform(0.7, 1.0),
                       lag=dict(trunk=rng.uniform(0.4, 0.7), lead_shoulder=rng.uniform(0.5, 0.9),
                                lead_elbow=rng.uniform(0.3, 0.6), lead_wrist=rng.uniform(0.2, 0.5)))


def _plan_stroke(rng, style: StrokeStyle, stance: dict, t_imp: float, delays: np.ndarray, *, vary: float,
                 dur_scale: float, others: bool, uncoupled: dict | None, amp_scale: float = 1.0):
    """Pulses of one stroke whose bat pulse peaks at ``t_imp`` s, the chain's links ``delays``
    s apart. ``vary``: relative swing-to-swing variation of amplitudes, speeds and the backlift's
    timing. ``uncoupled``: {driver: peak time} of pulses timed apart from the stroke."""
    v = (lambda: float(rng.normal(1.0, vary))) if vary else (lambda: 1.0)
    peaks = {"lead_wrist": t_imp}
    t = t_imp
    for d, dl in zip(reversed(CHAIN_DRIVERS[:-1]), reversed(delays)):
        t -= dl
        peaks[d] = t
    A = {k: x * v() for k, x in style.amp.items()}
    top = dict(sh=style.backlift["sh_top"] * v(), el=style.backlift["el_end"] + A["lead_elbow"],
               wr=style.backlift["wr_end"] + A["lead_wrist"])
    rev_wrist = style.shapes["lead_wrist"][2] > 0
    bl_peak = peaks["pelvis"] - style.bl_gap * v()
    pulses = _backlift(rng, style, stance["base"], top, bl_peak, rev_wrist, v)
    chain = _downswing(rng, style, stance["base"], A, top, peaks, rev_wrist, v, dur_scale, amp_scale)
    pulses += chain + _follow(rng, style, chain[len(CHAIN_DRIVERS) - 1], v)
    if amp_scale != 1.0:  # a smaller stroke: backlift, chain and follow-through alike
        for p in pulses:
            p.amp = p.amp * amp_scale
            if p.rev is not None:
                p.rev = p.rev * amp_scale
    un = uncoupled or {}
    if others:
        pulses += _other_pulses(rng, peaks["pelvis"], t_imp, bl_peak, skip=set(un))
    pulses += _uncoupled_pulses(rng, un)
    return pulses, peaks


def _backlift(rng, style, base, top, bl_peak, rev_wrist, v) -> list[Pulse]:
    """Lead arm up toward the rear, elbow flexed, wrist cocked, trunk and pelvis coiled. The lead
    arm's swing plane stays near the pitch's vertical plane while the trunk turns: its azimuth
    takes back ``plane_k`` of the pelvis's and trunk's yaw, here and in each later phase."""
    bl, k = style.backlift, style.plane_k
    amps = [("lead_shoulder", [bl["sh_az"] - k * (bl["trunk"] + bl["pelvis"]), top["sh"] - base["lead_shoulder"][1],
                               0.0]),
            ("lead_elbow", [top["el"] - base["lead_elbow"][0]]), ("trunk", [bl["trunk"], 0.0, 0.0]),
            ("pelvis", [0, 0, 0, bl["pelvis"], 0, 0])]
    if not rev_wrist:
        amps.append(("lead_wrist", [top["wr"] - base["lead_wrist"][0], 0.0]))
    out = []
    for d, amp in amps:
        a, b = _draw_shape(rng)
        out.append(Pulse(d, bl_peak + rng.normal(0, 0.03), style.bl_dur * v(), np.array(amp, float), a, b,
                         role="backlift"))
    return out


def _downswing(rng, style, base, A, top, peaks, rev_wrist, v, dur_scale, amp_scale) -> list[Pulse]:
    """The chain's five pulses (in ``CHAIN_DRIVERS`` order), then their lag pulses. Each
    distal joint lags (turns back by ``lag`` of its proximal neighbour's rotation) during that
    neighbour's pulse and catches up in its own: the trunk holds back while the pelvis turns
    (hip-shoulder separation), the arm while the trunk turns, the forearm while the arm pulls
    down, the bat while the elbow extends (wrist lag). A pulse's duration is |amplitude| x its
    shape's peak factor / the link's peak angular speed ``omega``."""
    bl, c, k = style.backlift, style.lag, style.plane_k
    A_p, A_T, A_sh = A["pelvis"], A["trunk"] - bl["trunk"], A["lead_shoulder"]
    trunk_own = A_T + c["trunk"] * A_p
    el_own = A["lead_elbow"] + c["lead_elbow"] * A_sh
    cw = min(c["lead_wrist"], max(0.0, (2.3 - top["wr"]) / el_own))  # the wrist cocks 2.3 rad at most
    amps = {
        "pelvis": [-rng.uniform(0.03, 0.05), 0.0, -rng.uniform(0.0, 0.015), A_p, 0.0, 0.0],
        "trunk": [trunk_own, rng.uniform(-0.1, 0.05), 0.0],
        "lead_shoulder": [-k * (A_p + A_T) + c["lead_shoulder"] * trunk_own, -A_sh, 0.0],
        "lead_elbow": [-el_own],
        "lead_wrist": [-(A["lead_wrist"] + cw * el_own), 0.0],
    }
    lag_amp = {"trunk": [-c["trunk"] * A_p, 0.0, 0.0], "lead_shoulder": [-c["lead_shoulder"] * trunk_own, 0.0, 0.0],
               "lead_elbow": [c["lead_elbow"] * A_sh], "lead_wrist": [cw * el_own, 0.0]}
    main = {"pelvis": 3, "trunk": 0, "lead_shoulder": 1, "lead_elbow": 0, "lead_wrist": 0}
    chain = []
    for d in CHAIN_DRIVERS:
        a, b, rev_p = style.shapes[d]
        amp, rev = np.array(amps[d], float), None
        if rev_wrist and d == "lead_wrist":
            # the backlift's cock and the downswing's uncock in one reversal pulse from the stance
            amp = np.array([bl["wr_end"] - base["lead_wrist"][0] - cw * el_own, 0.0])
            rev = np.array([top["wr"] - base["lead_wrist"][0], 0.0])
        p = Pulse(d, peaks[d], 1.0, amp, a, b, rev, rev_p or 2.0, role="chain")
        speed = p.peak_speed * abs(amp[main[d]]) / np.linalg.norm(amp) if rev is None else p.peak_speed
        p.dur = float(np.clip(speed / (style.omega[d] * v()) * dur_scale * amp_scale, 0.06 * min(dur_scale, 1),
                              0.4 * max(dur_scale, 1)))
        p.min_dur = speed / OMEGA_MAX[d] * dur_scale * amp_scale
        chain.append(p)
    for q, dist in zip(chain[:-1], CHAIN_DRIVERS[1:]):
        chain.append(Pulse(dist, q.t_peak, q.dur, np.array(lag_amp[dist], float), q.a, q.b, role="lag", tie=q.driver))
    return chain


def _follow(rng, style, bat_p, v) -> list[Pulse]:
    """Follow-through: slower pulses starting after the bat's: the arms rise toward the bowler,
    the bat wraps over, trunk and pelvis keep turning."""
    ft, k = style.follow, style.plane_k
    start = bat_p.t0 + bat_p.dur + style.ft_gap
    out = []
    for d, amp in (("lead_shoulder", [ft["sh_az"] - k * (ft["trunk"] + ft["pelvis"]), ft["sh"], 0.0]),
                   ("lead_elbow", [ft["el"]]), ("lead_wrist", [ft["wr"], 0.0]), ("trunk", [ft["trunk"], 0.0, 0.0]),
                   ("pelvis", [0, 0, 0, ft["pelvis"], 0, 0])):
        a, b = _draw_shape(rng)
        p = Pulse(d, 0.0, style.ft_dur * v(), np.array(amp, float), a, b, role="follow")
        p.t_peak = start + rng.uniform(0.0, 0.05) + p.s_peak * p.dur
        out.append(p)
    return out


def _stride(rng, t_peak, dur, role) -> list[Pulse]:
    """The lead foot forward with a lift, and the weight shift that goes with it (the pelvis
    follows 40-50 % of the way)."""
    stride = rng.uniform(0.12, 0.22)  # units of H
    a, b = _draw_shape(rng)
    return [Pulse("lead_ankle", t_peak, dur, np.array([-stride, rng.uniform(-0.02, 0.04), 0.0]), a, b,
                  lift=np.array([0.0, 0.0, rng.uniform(0.02, 0.05)]), role=role),
            Pulse("pelvis", t_peak + rng.normal(0, 0.02), dur * rng.uniform(0.9, 1.1),
                  np.array([-rng.uniform(0.4, 0.5) * stride, 0, -rng.uniform(0.01, 0.03), 0, 0, 0]), a, b, role=role)]


def _other_pulses(rng, t_pel, t_imp, bl_peak, skip) -> list[Pulse]:
    """A stroke's pulses outside the chain: the stride before the downswing, the rear knee's drive
    and the rear foot's drag near impact, the lead knee, and 1-2 pulses of the rear arm."""
    out = []
    if "lead_ankle" not in skip:
        out += _stride(rng, t_pel - rng.uniform(0.2, 0.4), rng.uniform(0.28, 0.36), "stride")
    if "rear_knee" not in skip:
        out.append(_own(rng, "rear_knee", t_imp + rng.uniform(-0.15, 0.2), [rng.uniform(0.3, 0.7)], (0.2, 0.35)))
    out.append(_own(rng, "rear_ankle", t_imp + rng.uniform(-0.1, 0.3), [rng.uniform(-0.06, -0.02),
                                                                       rng.uniform(0.0, 0.02), 0.0],
                    (0.2, 0.4), lift=[0.0, 0.0, rng.uniform(0.01, 0.03)]))
    out.append(_own(rng, "lead_knee", t_pel + rng.uniform(-0.3, 0.4), [rng.uniform(-0.3, 0.3)], (0.15, 0.35)))
    for d, rngs in (("rear_shoulder", [(-0.3, 0.3), (-0.4, 0.4), (-0.2, 0.2)]), ("rear_elbow", [(-0.4, 0.4)])):
        if d in skip:
            continue
        for _ in range(int(rng.integers(1, 3))):
            out.append(_own(rng, d, rng.uniform(bl_peak - 0.2, t_imp + 0.5), [rng.uniform(*r) for r in rngs],
                            (0.1, 0.35)))
    return out


UNCOUPLED_DRIVERS = ("rear_knee", "lead_ankle", "rear_elbow")


def _uncoupled_pulses(rng, un: dict) -> list[Pulse]:
    """One strong pulse per driver in ``un``, peaking at the time given."""
    out = []
    for d, tp in un.items():
        if d == "lead_ankle":
            out += _stride(rng, tp, rng.uniform(0.25, 0.36), "uncoupled")
        elif d == "rear_knee":
            out.append(_own(rng, "rear_knee", tp, [rng.uniform(0.5, 0.9)], (0.18, 0.3), role="uncoupled"))
        elif d == "rear_elbow":
            out.append(_own(rng, "rear_elbow", tp, [rng.uniform(0.6, 1.0)], (0.15, 0.3), role="uncoupled"))
        else:
            raise ValueError(f"no uncoupled pulse for driver {d!r}; known: {UNCOUPLED_DRIVERS}")
    return out


def _node_speeds(t, stance, body, rear_grip, pulses, cam, hand) -> np.ndarray:
    """(N, 14) image speeds (px/s) of the nodes relative to the pelvis; the pelvis relative to
    the ankles' midpoint: the quantity ``activation_s`` is defined on."""
    pts = _forward(_eval_drivers(t, stance["base"], pulses), body, stance["geo"], rear_grip)
    if hand == "left":
        pts[..., 0] *= -1.0
        pts = pts[:, _MIRROR]
    img = cam.project(pts, t)[0]
    rel = img - img[:, [_NI["pelvis"]]]
    rel[:, _NI["pelvis"]] = img[:, _NI["pelvis"]] - 0.5 * (img[:, _NI["l_ankle"]] + img[:, _NI["r_ankle"]])
    return np.linalg.norm(np.gradient(rel, t[1] - t[0], axis=0), axis=-1)


def _calibrate(pulses, stance, body, rear_grip, cam, hand, gain, dur_floor, dur_cap, duration, rounds=6) -> None:
    """Retime the chain's pulses (same amplitudes and peak times) so that each chain node's
    greatest image speed inside its own link's pulse is ``gain`` x its greatest anywhere else in
    the clip: each node's burst is then its own link's, as the camera sees it. A failing link's
    pulse is shortened (faster) down to ``dur_floor`` s; past that, the pulse of the link whose
    window holds the competing burst is lengthened (slower) up to ``dur_cap`` s. A few rounds;
    what still fails is left as it is (the truth is measured, not assumed)."""
    if not gain:
        return
    chain_p = [next(p for p in pulses if p.role == "chain" and p.driver == d) for d in CHAIN_DRIVERS]
    cols = [_NI[_resolve(n, hand)] for n in CHAIN_NODES]
    ties = dict(zip(CHAIN_DRIVERS, chain_p))
    lags = [q for q in pulses if q.tie]
    t = np.arange(0.0, duration, 1.0 / 300.0)
    for _ in range(rounds):
        sp = _node_speeds(t, stance, body, rear_grip, pulses, cam, hand)[:, cols]
        wins = [(t >= p.t0) & (t <= p.t0 + p.dur) for p in chain_p]
        changed = False
        for i, p in enumerate(chain_p):
            inside = np.abs(t - p.t_peak) <= max(0.25 * p.dur, 0.006)
            if inside.all() or not inside.any():
                continue
            p_in = sp[inside, i].max()
            out = np.where(inside, -1.0, sp[:, i])
            k_out = int(np.argmax(out))
            p_out = out[k_out]
            if p_in >= gain * p_out:
                continue
            ratio = p_in / (gain * p_out) * 0.97
            floor = max(dur_floor, p.min_dur)
            if p.dur > floor * 1.001:
                p.dur = max(floor, p.dur * ratio)
                changed = True
                continue
            rival = next((chain_p[k] for k in range(i) if wins[k][k_out]), None)
            if rival is not None and rival.dur < dur_cap * 0.999:
                rival.dur = min(dur_cap, rival.dur / ratio)
                changed = True
        for q in lags:
            q.dur = ties[q.tie].dur
        if not changed:
            break


def _own(rng, driver, t_peak, amp, dur_range, lift=None, role="own"):
    a, b = _draw_shape(rng)
    rev, rev_p = _draw_reversal(rng, amp, 0.1)
    return Pulse(driver, float(t_peak), float(rng.uniform(*dur_range)), np.array(amp, float), a, b, rev, rev_p,
                 None if lift is None else np.array(lift, float), role=role)


# --------------------------------------------------------------------------------------------
# rendering a plan into a clip

def _pose_errors(rng, clean, clean_bat, depth, cam: Camera, body: Body, fps: float, errors: dict):
    T, J = clean.shape[:2]
    hpx = cam.batter_px
    kp = clean.astype(np.float64).copy()
    bat = clean_bat.astype(np.float64).copy()
    # scores: lower on the far side of the body
    far = np.clip((depth[:, :J] - depth[:, [_NI["pelvis"]]]) / (0.6 * body.sh_w), 0.0, 1.0)
    sc = rng.uniform(0.85, 0.98, J)[None, :] - 0.3 * far + rng.normal(0, 0.03, (T, J))
    sc = np.clip(sc, 0.6, 1.0)
    spd = np.zeros(T)
    if T > 1:
        spd = np.linalg.norm(np.gradient(clean_bat, axis=0), axis=-1)
    bsc = np.clip(rng.uniform(0.8, 0.95) - 0.25 * np.clip(spd / (0.25 * hpx), 0, 1) + rng.normal(0, 0.03, T),
                  0.6, 1.0)
    rates: dict = {"jitter_px": 0.0, "jitter_df": 3, "dropout_per_joint_s": 0.0, "dropout_ms": [20, 300],
                   "glitch_rate": 0.0, "glitch_px": [20, 150], "swap_share": {}}
    swapped = {g: np.zeros(T, bool) for g in SWAP_GROUPS}
    drop = np.zeros((T, J + 1), bool)
    glitch = np.zeros((T, J + 1), bool)

    jit = errors.get("jitter", False)
    if jit:
        sig = (float(rng.uniform(1.0, 3.0)) if jit is True else float(jit)) * hpx / 450.0
        rates["jitter_px"] = round(sig, 4)
        kp += sig * rng.standard_t(3, (T, J, 2))
        bat += 1.5 * sig * rng.standard_t(3, (T, 2))

    sw = errors.get("swap", False)
    if sw:
        share = dict(DEFAULT_SWAP_SHARE) if sw is True else (
            {g: float(sw) for g in SWAP_GROUPS} if np.isscalar(sw) else {g: float(sw.get(g, 0.0)) for g in SWAP_GROUPS})
        for g, pairs in SWAP_GROUPS.items():
            want = share.get(g, 0.0)
            m = swapped[g]
            n_b = int(round(want * T / 3.5))
            for _ in range(n_b):
                ln = int(rng.integers(1, 7))
                s0 = int(rng.integers(0, max(T - ln, 1)))
                m[s0:s0 + ln] = True
            for a, b in pairs:
                ia, ib = _NI[a], _NI[b]
                kp[m, ia], kp[m, ib] = kp[m, ib].copy(), kp[m, ia].copy()
                sc[m, ia], sc[m, ib] = sc[m, ib].copy(), sc[m, ia].copy()
            rates["swap_share"][g] = round(want, 4)
        rates["swap_realised"] = {g: round(float(m.mean()), 4) for g, m in swapped.items()}

    dr = errors.get("dropout", False)
    if dr:
        rate = float(rng.uniform(0.05, 0.25)) if dr is True else float(dr)
        rates["dropout_per_joint_s"] = round(rate, 4)
        lo, hi = clean.min(1), clean.max(1)  # (T, 2) body box
        c, half = 0.5 * (lo + hi), 0.5 * (hi - lo) * 1.25 + 5.0
        for j in range(J + 1):
            n = rng.poisson(rate * T / fps)
            for _ in range(n):
                ln = max(2, int(round(math.exp(rng.uniform(math.log(0.02), math.log(0.3))) * fps)))
                s0 = int(rng.integers(0, max(T - ln, 1)))
                sl = slice(s0, min(s0 + ln, T))
                k = sl.stop - sl.start
                pos = c[s0] + half[s0] * rng.uniform(-1, 1, 2) + np.cumsum(rng.normal(0, 2.0, (k, 2)), 0)
                if j < J:
                    kp[sl, j] = pos
                    sc[sl, j] = rng.uniform(0.0, 0.05, k)
                else:
                    bat[sl] = pos
                    bsc[sl] = rng.uniform(0.0, 0.05, k)
                drop[sl, j] = True
        rates["dropout_share"] = round(float(drop.mean()), 4)

    gl = errors.get("glitch", False)
    if gl:
        p = float(rng.uniform(0.005, 0.02)) if gl is True else float(gl)
        rates["glitch_rate"] = round(p, 5)
        glitch = (rng.random((T, J + 1)) < p) & ~drop
        n = int(glitch.sum())
        r = rng.uniform(20.0, 150.0, n)
        th = rng.uniform(0, 2 * np.pi, n)
        off = np.stack([r * np.cos(th), r * np.sin(th)], -1)
        gs = rng.uniform(0.3, 0.9, n)
        tt, jj = np.nonzero(glitch)
        isj = jj < J
        kp[tt[isj], jj[isj]] += off[isj]
        sc[tt[isj], jj[isj]] = gs[isj]
        bat[tt[~isj]] += off[~isj]
        bsc[tt[~isj]] = gs[~isj]
        rates["glitch_share"] = round(float(glitch.mean()), 5)

    out = (bat[:, 0] < 0) | (bat[:, 0] >= cam.W) | (bat[:, 1] < 0) | (bat[:, 1] >= cam.H)
    bsc[out] = rng.uniform(0.0, 0.05, int(out.sum()))
    return kp, sc, bat, bsc, rates, swapped, drop, glitch


_ERR_KEYS = ("jitter", "dropout", "glitch", "swap")


def _parse_errors(errors) -> dict:
    if errors is True or errors is None:
        return {k: True for k in _ERR_KEYS}
    if errors is False:
        return {k: False for k in _ERR_KEYS}
    bad = set(errors) - set(_ERR_KEYS)
    if bad:
        raise ValueError(f"unknown error kinds {sorted(bad)}; known: {_ERR_KEYS}")
    return {k: errors.get(k, False) for k in _ERR_KEYS}


def _render(*, kind, name, fps, duration, body, hand, stance, cam, pulses, rear_grip, errors, rng_noise,
            chain_peaks=None, chain_delays=None, swing_s=None, extra=None) -> dict:
    m = max(1, int(math.ceil(FINE_HZ / fps)))
    rate = fps * m
    T = max(2, int(round(duration * fps)))
    n_fine = (T - 1) * m + 1
    t = np.arange(n_fine) / rate
    q = _eval_drivers(t, stance["base"], pulses)
    pts, grip = _forward(q, body, stance["geo"], rear_grip, with_grip=True)
    if hand == "left":
        pts[..., 0] *= -1.0
        grip[..., 0] *= -1.0
        pts = pts[:, _MIRROR]
    img, depth = cam.project(pts, t)

    # truth from the noise-free motion
    rel = img.copy()
    rel[:, :] -= img[:, [_NI["pelvis"]]]
    rel[:, _NI["pelvis"]] = img[:, _NI["pelvis"]] - 0.5 * (img[:, _NI["l_ankle"]] + img[:, _NI["r_ankle"]])
    spd = np.linalg.norm(np.gradient(rel, 1.0 / rate, axis=0), axis=-1)
    ipk = np.argmax(spd, 0)
    activation = {n: round(float(t[ipk[i]]), 6) for i, n in enumerate(NODES)}
    peak_speed = {n: round(float(spd[ipk[i], i]), 2) for i, n in enumerate(NODES)}
    tip_v = np.linalg.norm(np.gradient(pts[:, _NI["bat"]], 1.0 / rate, axis=0), axis=-1)
    if chain_peaks:
        pel = next(p for p in pulses if p.role == "chain" and p.driver == "pelvis")
        win = (t >= pel.t0) & (t <= chain_peaks["lead_wrist"] + 0.15)
        if not win.any():
            win[:] = True
    else:
        win = np.ones(n_fine, bool)
    i_imp = int(np.flatnonzero(win)[np.argmax(tip_v[win])])

    frames = slice(0, n_fine, m)
    clean = img[frames].astype(np.float32)
    kp, sc, bat, bsc, rates, swapped, drop, glitch = _pose_errors(
        rng_noise, clean[:, :13].astype(np.float64), clean[:, 13].astype(np.float64), depth[frames], cam, body, fps,
        errors)

    chain = [_resolve(n, hand) for n in CHAIN_NODES] if chain_peaks else []
    delays = {}
    designed = {}
    if chain_peaks:
        for d, n in zip(CHAIN_DRIVERS, chain):
            designed[n] = round(float(chain_peaks[d]), 6)
        for a, b in zip(chain[:-1], chain[1:]):
            delays[f"{a}->{b}"] = round(designed[b] - designed[a], 6)
    truth = dict(
        kind=kind, name=name, fps=float(fps), duration_s=round((T - 1) / fps, 6), n_frames=T, handedness=hand,
        lead=_resolve("lead_x", hand)[0], impact_s=round(float(t[i_imp]), 6),
        impact_speed_m_s=round(float(tip_v[i_imp]), 3), activation_s=activation, peak_speed_px_s=peak_speed,
        chain=chain, delays_s=delays, designed_peak_s=designed, swing_s=swing_s,
        pulses=[dict(driver=p.driver, node=_resolve(DRIVER_NODE[p.driver], hand), role=p.role,
                     start_s=round(p.t0, 6), duration_s=round(p.dur, 6), peak_s=round(p.t_peak, 6), shape=p.shape(),
                     amp=[round(float(x), 5) for x in p.amp]) for p in sorted(pulses, key=lambda p: p.t_peak)],
        rear_grip=float(rear_grip), error_rates=rates, swapped=swapped, dropout=drop, glitch=glitch,
        camera=cam.as_dict(), body=body.as_dict(), clean_keypoints=clean[:, :13].copy(),
        clean_bat=clean[:, 13].copy(), points3d=pts[frames].astype(np.float32),
    )
    if chain_peaks:
        truth["stroke"] = _stroke_truth(t, pts, grip, truth["lead"], i_imp, cam)
    if extra:
        truth.update(extra)
    return dict(keypoints=kp.astype(np.float32), scores=sc.astype(np.float32), bat=bat.astype(np.float32),
                bat_scores=bsc.astype(np.float32), fps=float(fps), name=name, truth=truth)


SWEET_SPOT_FROM_TOE = 0.15  # m: where the ball is best struck (the bat's vibration node), this far up from the toe
REST_SHARE = 0.01  # a movement starts (ends) where its speed first rises above (last falls below) this share of its peak


def _rise(speed: np.ndarray, peak: int, step: int) -> int | None:
    """From ``peak``, walking by ``step``: the first sample below ``REST_SHARE`` of the peak
    speed (None if the series ends first)."""
    level = REST_SHARE * speed[peak]
    i = peak
    while 0 <= i + step < len(speed) and speed[i] >= level:
        i += step
    return i if speed[i] < level else None


def _seg_angular_speed(a: np.ndarray, b: np.ndarray, dt: float) -> np.ndarray:
    """The 3-D angular speed (rad/s) of the line a -> b: |u x du/dt|, u its unit vector."""
    u = b - a
    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    return np.linalg.norm(np.cross(u, np.gradient(u, dt, axis=0)), axis=-1)


def _stroke_truth(t, pts, grip, lead, i_imp, cam) -> dict:
    """A stroke's events and figures as the literature defines them, from the 3-D motion
    (sampled at ``FINE_HZ``; times in s from the clip's start, None where the clip does not hold
    the event):

    - ``start_of_backlift``: the bat's first movement (Stretch et al. 1998): the first sample
      where the bat tip's speed relative to the pelvis reaches ``REST_SHARE`` of its greatest
      before the top of the backlift (None if the clip starts with the bat moving);
    - ``top_of_backlift`` (= ``start_of_downswing``): the bat's reversal, where its angle in the
      pitch's vertical plane (x-z) is furthest back (in the downswing's sense) within 1.5 s before
      the downswing's fastest turn;
    - ``front_foot_toe_off`` / ``front_foot_contact``: the lead foot (ankle) leaving and
      regaining rest, either side of its fastest movement before impact;
    - ``bat_peak_speed``: the bat tip's greatest 3-D speed in the downswing (``impact_s``);
    - ``end_of_follow_through``: the bat at rest after impact (its tip's speed relative to the
      pelvis below ``REST_SHARE`` of its post-impact peak from then on);
    - ``sequence_peak_s``: the lead arm's (lead shoulder -> lead wrist) and the bat's (grip ->
      tip) greatest 3-D angular speed in the downswing (from the top of the backlift, or 0.5 s
      before ``bat_peak_speed``, to 0.15 s after it);
    - ``bat_speed_m_s``: the greatest 3-D speed (world frame) of the toe (the tip) and of the
      sweet spot (``SWEET_SPOT_FROM_TOE`` up the bat) in that window;
    - ``stride_m``: the lead ankle's displacement from toe-off to contact (3-D, and its part
      in the image plane: ``stride_image_plane_m``); ``backlift_height_m``: the tip's height
      above the pelvis at the top of the backlift."""
    dt = float(t[1] - t[0])
    n = len(t)
    fs = int(round(1.0 / dt))
    L = lambda name: _NI[f"{lead}_{name}"]  # noqa: E731
    pelvis, tip = pts[:, _NI["pelvis"]], pts[:, _NI["bat"]]
    hands = 0.5 * (pts[:, _NI["l_wrist"]] + pts[:, _NI["r_wrist"]])
    rel_speed = np.linalg.norm(np.gradient(tip - pelvis, dt, axis=0), axis=-1)
    sec = lambda i: None if i is None else round(float(t[i]), 6)  # noqa: E731
    ev: dict = {"bat_peak_speed": sec(i_imp)}
    # the bat's reversal: its angle in the x-z plane, walking back from the downswing's fastest turn
    bat = tip - hands
    omega = np.gradient(np.unwrap(np.arctan2(bat[:, 2], bat[:, 0])), dt)
    sense = 1.0 if omega[i_imp] >= 0 else -1.0
    lo = max(0, i_imp - fs // 2)
    w = lo + int(np.argmax(sense * omega[lo:i_imp + 1]))
    back = max(0, w - int(1.5 * fs))
    r = back + int(np.argmin(sense * np.unwrap(np.arctan2(bat[:, 2], bat[:, 0]))[back:w + 1]))
    top = r if r > back else None  # the bat turned furthest back before the downswing (a brief stall in it is no top)
    ev["top_of_backlift"] = ev["start_of_downswing"] = sec(top)
    start = None
    if top is not None and top > 1:  # the first sample moving at REST_SHARE of the backlift's fastest
        moving = np.flatnonzero(rel_speed[:top] >= REST_SHARE * rel_speed[:top].max())
        start = int(moving[0]) if len(moving) and moving[0] > 0 else None
    ev["start_of_backlift"] = sec(start)
    # the front foot
    ankle = pts[:, L("ankle")]
    foot = np.linalg.norm(np.gradient(ankle, dt, axis=0), axis=-1)
    f = int(np.argmax(foot[:min(n, i_imp + fs // 10)]))
    off, on = (_rise(foot, f, -1), _rise(foot, f, +1)) if foot[f] > 0.05 else (None, None)
    ev["front_foot_toe_off"], ev["front_foot_contact"] = sec(off), sec(on)
    # the follow-through's end: at rest from then on
    after = rel_speed[i_imp:]
    moving = np.flatnonzero(after >= REST_SHARE * after.max())
    end = i_imp + int(moving[-1]) + 1
    ev["end_of_follow_through"] = sec(end) if end < n else None
    # the kinematic sequence's peaks and the bat's speeds
    win = slice(lo if top is None else top, min(n, i_imp + int(0.15 * fs)))
    arm = _seg_angular_speed(pts[:, L("shoulder")], pts[:, L("wrist")], dt)
    bat_w = _seg_angular_speed(grip, tip, dt)  # the bat itself (the rear wrist's inverse kinematics can jump a frame)
    seq = {name: round(float(t[win][np.argmax(x[win])]), 6) for name, x in (("lead_arm", arm), ("bat", bat_w))}
    u = (tip - grip) / np.linalg.norm(tip - grip, axis=-1, keepdims=True)
    sweet = tip - SWEET_SPOT_FROM_TOE * u
    speeds = {name: round(float(np.linalg.norm(np.gradient(x, dt, axis=0), axis=-1)[win].max()), 4)
              for name, x in (("toe", tip), ("sweet_spot", sweet))}
    out = {"events_s": ev, "sequence_peak_s": seq, "bat_speed_m_s": speeds,
           "sequence_peak_rad_s": {"lead_arm": round(float(arm[win].max()), 3), "bat": round(float(bat_w[win].max()), 3)}}
    if off is not None and on is not None:
        d = ankle[on] - ankle[off]
        in_plane = d - (d @ cam.R[2]) * cam.R[2]  # less the part along the camera's axis
        out["stride_m"] = round(float(np.linalg.norm(d)), 4)
        out["stride_image_plane_m"] = round(float(np.linalg.norm(in_plane)), 4)
    if top is not None:
        out["backlift_height_m"] = round(float(tip[top, 2] - pelvis[top, 2]), 4)
    return out


# --------------------------------------------------------------------------------------------
# public clip kinds

def _fps(rng, fps):
    return float(rng.choice(FPS_CHOICES)) if fps is None else float(fps)


def _dur(rng, duration):
    return float(rng.uniform(*duration)) if isinstance(duration, (tuple, list)) else float(duration)


def _streams(rng):
    """Independent generators for the motion, the camera and the pose errors of one clip, so
    that switching errors off leaves the motion and the camera unchanged."""
    ss = np.random.SeedSequence(int(rng.integers(0, 2 ** 63)))
    return [np.random.default_rng(s) for s in ss.spawn(3)]


def _hand(rng, handedness):
    if handedness in ("right", "left"):
        return handedness
    return "left" if rng.random() < float(handedness if handedness is not None else 0.25) else "right"


def _clip_draws(rng, fps, duration, handedness):
    """One clip's own streams (motion, camera, noise) and, from the motion stream in this order,
    its frame rate, duration, handedness, body and stance."""
    rm, rc, rn = _streams(rng)
    f, T = _fps(rm, fps), _dur(rm, duration)
    hand = _hand(rm, handedness)
    body = _make_body(rm)
    return rm, rc, rn, f, T, hand, body, _stance(rm, body)


def _nulls(kind, rng, n, fps, duration, errors, p_pan, p_zoom, handedness, view, p_reversal, rear_grip):
    clips = []
    errs = _parse_errors(errors)
    for i in range(n):
        rm, rc, rn, f, T, hand, body, stance = _clip_draws(rng, fps, duration, handedness)
        pulses, swing = _plan_null(rm, T, kind == "null_cotimed", p_reversal, stance["base"])
        cam = _build_camera(rc, _camera_params(rc, body, view), body, T, p_pan, p_zoom)
        clips.append(_render(kind=kind, name=f"{kind}-{i:04d}", fps=f, duration=T, body=body, hand=hand,
                             stance=stance, cam=cam, pulses=pulses, rear_grip=rear_grip, errors=errs,
                             rng_noise=rn, swing_s=swing))
    return clips


def null_uniform(rng: np.random.Generator, n: int = 1, fps: float | None = None, *, duration=(1.5, 6.0),
                 errors=True, p_pan: float = 0.5, p_zoom: float = 0.3, handedness=0.25, view=(-20.0, 45.0),
                 p_reversal: float = 0.15, rear_grip: float = 0.0) -> list[dict]:
    """``n`` clips where every driver makes 1-3 pulses (``p_reversal`` of them reversals) peaking
    at independent times, uniform over the clip; no driver depends on another (the bat rides on
    the lead hand; ``rear_grip`` = 0 leaves the rear arm free).

    Shared options of every kind: ``fps`` (None: drawn from 25, 50, 120, 240 per clip),
    ``duration`` (s, or a (low, high) range), ``errors`` (see the module's docstring),
    ``p_pan``/``p_zoom`` (share of clips whose camera pans/zooms), ``handedness`` ("right",
    "left", or the probability of a left-hander), ``view`` (camera azimuth range, deg)."""
    return _nulls("null_uniform", rng, n, fps, duration, errors, p_pan, p_zoom, handedness, view, p_reversal,
                  rear_grip)


def null_cotimed(rng: np.random.Generator, n: int = 1, fps: float | None = None, *, duration=(1.5, 6.0),
                 errors=True, p_pan: float = 0.5, p_zoom: float = 0.3, handedness=0.25, view=(-20.0, 45.0),
                 p_reversal: float = 0.15, rear_grip: float = 0.0) -> list[dict]:
    """As :func:`null_uniform`, but every pulse peaks within +-0.3 s of one swing time per clip
    (``truth["swing_s"]``), independently per driver."""
    return _nulls("null_cotimed", rng, n, fps, duration, errors, p_pan, p_zoom, handedness, view, p_reversal,
                  rear_grip)


def _impact_time(rng, T, span):
    """The bat pulse's peak: room for the backlift and the chain (``span`` s) before, and the
    follow-through after, where the clip allows."""
    lo, hi = max(0.5 + span, 0.35 * T), min(T - 0.6, 0.65 * T)
    return float(rng.uniform(lo, max(lo, hi)))


def chain(rng: np.random.Generator, n: int = 1, fps: float | None = None, *, delay_range=(0.030, 0.120),
          duration=(1.5, 6.0), errors=True, p_pan: float = 0.5, p_zoom: float = 0.3, handedness=0.25,
          view=(-20.0, 45.0), p_reversal: float = 0.2, rear_grip: float = 1.0, others: bool = True,
          dur_scale: float = 1.0, amp_scale: float = 1.0, gain: float = 1.3) -> list[dict]:
    """``n`` strokes: stance, backlift, downswing, follow-through. The downswing is the chain
    pelvis -> lead shoulder -> lead elbow -> lead wrist -> bat, each link's delay (between the
    peaks of the links' driving pulses) drawn per clip from ``delay_range`` (s).

    ``others``: the stride, knees, rear ankle and rear arm make pulses of their own (False: only
    the stroke moves). ``p_reversal``: share of strokes whose bat pulse is one reversal (cock,
    then uncock). ``rear_grip``: 1 keeps the rear hand on the handle, 0 frees it. ``dur_scale``
    scales the chain pulses' durations, ``amp_scale`` the whole stroke's amplitudes (with the
    chain's durations); both below 1 give short, small, well-separated pulses. ``gain``: how far
    a chain node's own burst must stand out in the image (0: no retiming)."""
    clips = []
    errs = _parse_errors(errors)
    for i in range(n):
        rm, rc, rn, f, T, hand, body, stance = _clip_draws(rng, fps, duration, handedness)
        style = _draw_style(rm, stance["base"], delay_range, p_reversal)
        t_imp = _impact_time(rm, T, float(style.delays.sum()))
        pulses, peaks = _plan_stroke(rm, style, stance, t_imp, style.delays, vary=0.0, dur_scale=dur_scale,
                                     others=others, uncoupled=None, amp_scale=amp_scale)
        cam = _build_camera(rc, _camera_params(rc, body, view), body, T, p_pan, p_zoom)
        _calibrate(pulses, stance, body, rear_grip, cam, hand, gain, 0.06 * min(dur_scale, 1.0),
                       0.4 * max(dur_scale, 1.0), T)
        clips.append(_render(kind="chain", name=f"chain-{i:04d}", fps=f, duration=T, body=body, hand=hand,
                             stance=stance, cam=cam, pulses=pulses, rear_grip=rear_grip, errors=errs, rng_noise=rn,
                             chain_peaks=peaks))
    return clips


def library(rng: np.random.Generator, n: int = 1, fps: float | None = None, *, n_swings=(10, 20),
            delay_range=(0.030, 0.120), delay_sd: float = 0.010, duration=(2.5, 4.0), errors=True,
            p_pan: float = 0.5, p_zoom: float = 0.3, handedness=0.25, view=(-20.0, 45.0), p_reversal: float = 0.2,
            rear_grip: float = 1.0, uncoupled=("rear_knee", "lead_ankle"), dur_scale: float = 1.0,
            gain: float = 1.3) -> list[dict]:
    """``n`` libraries, each ``{"name", "swings": [clip, ...], "truth": {...}}``: one batter
    (proportions, handedness, stance, camera within a few per cent) making ``n_swings`` (an int
    or an inclusive range) ``chain`` strokes. Link delays are the batter's own (drawn once from
    ``delay_range``) plus N(0, ``delay_sd``) per swing; the impact time, amplitudes (sd 5 %) and
    the other pulses vary per swing. The drivers named in ``uncoupled`` (default the rear knee's
    drive and the lead foot's stride; ``"rear_elbow"`` too when ``rear_grip`` = 0) each make one
    pulse peaking at the bat pulse's peak + U(-0.3, 0.3) s, drawn independently per swing:
    co-timed with the stroke, coupled to nothing. Other options as :func:`chain`.

    The library's truth: ``chain``, ``delays_s`` (the batter's own), ``delay_sd_s``,
    ``per_swing_delays_s`` (designed, per swing), ``coupled_pairs`` (the chain's links),
    ``uncoupled_cotimed_pairs`` (every pair of the ``uncoupled`` drivers' nodes),
    ``uncoupled_offsets_s`` (per swing, each such node's pulse peak minus the bat pulse's)."""
    bad = set(uncoupled) - set(UNCOUPLED_DRIVERS)
    if bad or len(uncoupled) < 2:
        raise ValueError(f"uncoupled: two or more of {UNCOUPLED_DRIVERS}, not {uncoupled}")
    if "rear_elbow" in uncoupled and rear_grip > 0:
        raise ValueError("an uncoupled rear elbow needs rear_grip=0 (else the handle moves it)")
    out = []
    errs = _parse_errors(errors)
    for li in range(n):
        rb, rcam = _streams(rng)[:2]
        f = _fps(rb, fps)
        hand = _hand(rb, handedness)
        body = _make_body(rb)
        stance = _stance(rb, body)
        style = _draw_style(rb, stance["base"], delay_range, p_reversal)
        cam_prm = _camera_params(rcam, body, view)
        ns = int(rb.integers(n_swings[0], n_swings[1] + 1)) if isinstance(n_swings, (tuple, list)) else int(n_swings)
        lname = f"library-{li:04d}"
        chain_names = [_resolve(x, hand) for x in CHAIN_NODES]
        un_nodes = [_resolve(DRIVER_NODE[d], hand) for d in uncoupled]
        swings, per_delays, offsets = [], [], []
        for s in range(ns):
            rm, rc, rn = _streams(rb)
            T = _dur(rm, duration)
            dl = np.maximum(style.delays + rm.normal(0.0, delay_sd, 4), 0.004)
            t_imp = _impact_time(rm, T, float(dl.sum()))
            un = {d: t_imp + float(rm.uniform(-0.3, 0.3)) for d in uncoupled}
            pulses, peaks = _plan_stroke(rm, style, stance, t_imp, dl, vary=0.05, dur_scale=dur_scale,
                                         others=True, uncoupled=un)
            prm = dict(cam_prm)
            prm.update(dist=cam_prm["dist"] * rc.uniform(0.97, 1.03), az=cam_prm["az"] + math.radians(rc.uniform(-2, 2)),
                       off=(cam_prm["off"][0] + rc.uniform(-0.02, 0.02) * cam_prm["W"],
                            cam_prm["off"][1] + rc.uniform(-0.01, 0.01) * cam_prm["Hh"]))
            prm["hpx"] = cam_prm["hpx"] * cam_prm["dist"] / prm["dist"]
            cam = _build_camera(rc, prm, body, T, p_pan, p_zoom)
            _calibrate(pulses, stance, body, rear_grip, cam, hand, gain, 0.06 * min(dur_scale, 1.0),
                       0.4 * max(dur_scale, 1.0), T)
            clip = _render(kind="library", name=f"{lname}-swing{s:02d}", fps=f, duration=T, body=body, hand=hand,
                           stance=stance, cam=cam, pulses=pulses, rear_grip=rear_grip, errors=errs, rng_noise=rn,
                           chain_peaks=peaks,
                           extra=dict(library=lname, swing=s,
                                      uncoupled_peak_s={_resolve(DRIVER_NODE[d], hand): round(tp, 6)
                                                        for d, tp in un.items()}))
            per_delays.append(clip["truth"]["delays_s"])
            offsets.append({_resolve(DRIVER_NODE[d], hand): round(tp - t_imp, 6) for d, tp in un.items()})
            swings.append(clip)
        links = list(zip(chain_names[:-1], chain_names[1:]))
        truth = dict(
            kind="library", name=lname, fps=f, handedness=hand, n_swings=ns, chain=chain_names,
            delays_s={f"{a}->{b}": round(float(d), 6) for (a, b), d in zip(links, style.delays)},
            delay_sd_s=float(delay_sd), per_swing_delays_s=per_delays,
            coupled_pairs=[list(p) for p in links],
            uncoupled_cotimed_pairs=[[a, b] for i, a in enumerate(un_nodes) for b in un_nodes[i + 1:]],
            uncoupled_drivers=list(uncoupled), uncoupled_offsets_s=offsets, body=body.as_dict(),
        )
        out.append(dict(name=lname, swings=swings, truth=truth))
    return out


def make_suite(kind: str, n: int, fps: float | None, seed: int, **options) -> list[dict]:
    """``n`` clips (``n`` libraries for ``kind="library"``) of one kind, from ``seed``."""
    fns = {"null_uniform": null_uniform, "null_cotimed": null_cotimed, "chain": chain, "library": library}
    if kind not in fns:
        raise ValueError(f"unknown kind {kind!r}; known: {KINDS}")
    return fns[kind](np.random.default_rng(seed), n, fps, **options)


def write_npz(clip: dict, path) -> None:
    """Save a clip for ``corrkin analyse``: keypoints, scores, bat, bat_scores, fps, joints."""
    np.savez(path, keypoints=np.asarray(clip["keypoints"], np.float32),
             scores=np.asarray(clip["scores"], np.float32), bat=np.asarray(clip["bat"], np.float32),
             bat_scores=np.asarray(clip["bat_scores"], np.float32), fps=np.float64(clip["fps"]),
             joints=np.array(JOINTS))
