"""Evidence on the pixels for "this person is the batter", per candidate and sampled frame.

* **grip**: a bar runs out from the person's hands (:func:`corrkin.bat.evidence.grip_score`),
  with everyone else's body masked, times how surely the pose model saw those hands (the mean
  of the two wrists' scores): a bar from where a hand is only guessed (a person cut off by the
  frame's edge, whose hands are out of sight) is no evidence that they hold it;
* **crease**: a bright line crosses the frame at the person's feet (the popping crease the
  batter stands at, painted white across the pitch): :func:`crease_score`.

Both are measured on ``samples`` evenly spaced frames (NaN elsewhere); a track's evidence is
the mean over the frames where it was measured (:func:`corrkin.pose.select.select_batter`).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from corrkin.bat.evidence import grip_score
from corrkin.bat.sampling import grey
from corrkin.config import BatSettings
from corrkin.pose.select import People
from corrkin.skeleton import JOINT_INDEX as J
from corrkin.skeleton import shoulder_width

SAMPLES = 16  # frames per clip where each candidate's evidence is measured


def crease_score(frames: torch.Tensor, keypoints: torch.Tensor, tau: float = 12.0, reach: float = 2.5,
                 depth: float = 0.6) -> torch.Tensor:
    """How surely a bright line crosses the frame at the feet of the person with ``keypoints
    (T, 13, 2)`` in ``frames (T, 3, H, W)``: ``(T,)`` in [0, 1].

    Rows within ``depth`` shoulder widths above or below the ankles' midpoint are sampled across
    ``reach`` shoulder widths either side; at each point the vertical bar contrast (the grey
    level against those a tenth of a shoulder width above and below, capped at ``2 tau``) is
    taken, averaged along the row, and the best row counts: 1 when a line of contrast ``2 tau``
    runs the whole width. A leg is vertical and adds little; a shadow is dark, not bright."""
    kp = keypoints.float().to(frames.device)
    t, _, h, w = frames.shape
    sw = shoulder_width(kp).clamp_min(4.0)
    feet = (kp[:, J["l_ankle"]] + kp[:, J["r_ankle"]]) / 2
    dy = torch.linspace(-depth, depth, 25, device=frames.device)
    dx = torch.linspace(-reach, reach, 64, device=frames.device)
    x = feet[:, 0, None, None] + sw[:, None, None] * dx[None, None, :]
    y = feet[:, 1, None, None] + sw[:, None, None] * dy[None, :, None]
    y = y.expand(-1, -1, len(dx))
    x = x.expand(-1, len(dy), -1)
    off = (0.1 * sw).clamp_min(1.5)[:, None, None]
    pts = torch.stack([torch.stack([x, y], -1), torch.stack([x, y - off], -1), torch.stack([x, y + off], -1)], 1)
    scale = torch.tensor([2.0 / w, 2.0 / h], device=frames.device)
    v = F.grid_sample(grey(frames), (pts * scale - 1).reshape(t, 3, -1, 2), align_corners=False,
                      padding_mode="border").reshape(t, 3, len(dy), len(dx))
    contrast = (v[:, 0] - (v[:, 1] + v[:, 2]) / 2).clamp(-2 * tau, 2 * tau)
    return (contrast.mean(-1).amax(-1) / (2 * tau)).clamp(0, 1)


def pixel_evidence(chunks, people: People, bat: BatSettings, samples: int = SAMPLES,
                   grip: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """``(grip, crease)``, ``(T, P)`` each, for every candidate on ``samples`` evenly spaced
    frames of the RGB uint8 ``chunks``; NaN where not measured. ``grip=False`` (the model has
    a bat-tip keypoint) measures the crease alone and returns ``None`` for the grip."""
    t, p = people.valid.shape
    want = np.zeros(t, bool)
    want[:: max(1, t // samples)] = True
    joints = people.everyone()
    hands = people.joint_scores()[..., [J["l_wrist"], J["r_wrist"]]].mean(-1).clip(0, 1)  # (T, P)
    grips, crease = np.full((t, p), np.nan, np.float32), np.full((t, p), np.nan, np.float32)
    f0 = 0
    for chunk in chunks:
        rows = np.flatnonzero(want[f0: f0 + len(chunk)])
        for i in range(p):
            ok = rows[people.valid[f0 + rows, i]]
            if ok.size:
                kp = torch.from_numpy(joints[f0 + ok, i]).to(chunk.device)
                sub = chunk[torch.from_numpy(ok).to(chunk.device)]
                if grip:
                    others = torch.from_numpy(np.delete(joints[f0 + ok], i, axis=1)).to(chunk.device)
                    grips[f0 + ok, i] = grip_score(sub, kp, bat, others=others).cpu().numpy() * hands[f0 + ok, i]
                crease[f0 + ok, i] = crease_score(sub, kp, tau=bat.tau).cpu().numpy()
        f0 += len(chunk)
    return (grips if grip else None), crease
