"""Joint and node vocabulary shared by every stage.

The analysis works on 13 body joints (the seed files' order) plus the bat tip, 14 *nodes* in all.
COCO-17 (mmpose, MediaPipe converted) is mapped onto the 13 joints; the pelvis is the hip midpoint.
"""

from __future__ import annotations

JOINTS: tuple[str, ...] = (
    "l_ankle", "r_ankle", "l_knee", "r_knee", "l_hip", "r_hip", "pelvis",
    "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
)
NODES: tuple[str, ...] = JOINTS + ("bat",)
JOINT_INDEX = {name: i for i, name in enumerate(JOINTS)}
NODE_INDEX = {name: i for i, name in enumerate(NODES)}
BAT = NODE_INDEX["bat"]

COCO17: tuple[str, ...] = (
    "nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder", "l_elbow",
    "r_elbow", "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle",
)

# Other tools' keypoint orders, in the same vocabulary (``mid_hip``/``hip``: the hips' midpoint
# as the model predicts it). OpenPose's BODY_25 and its 18-point COCO body; HALPE-26 is what
# Sports2D and Pose2Sim run by default (COCO-17, then the head, neck, hip and feet). Each is
# read through its COCO-17 points (:func:`coco17_index`), so every source gives the same 13
# joints, the pelvis the hips' midpoint.
OPENPOSE_BODY25: tuple[str, ...] = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist", "mid_hip",
    "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
    "l_big_toe", "l_small_toe", "l_heel", "r_big_toe", "r_small_toe", "r_heel",
)
OPENPOSE_COCO18: tuple[str, ...] = (
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
    "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
)
HALPE26: tuple[str, ...] = COCO17 + (
    "head", "neck", "hip", "l_big_toe", "r_big_toe", "l_small_toe", "r_small_toe", "l_heel", "r_heel",
)


def coco17_index(names: tuple[str, ...]) -> list[int]:
    """Where each COCO-17 point lies in a layout of ``names`` (indices into it, COCO-17's order)."""
    return [names.index(n) for n in COCO17]


# The bones between the joints, as drawn and as masked out when looking for the bat.
LIMBS: tuple[tuple[str, str], ...] = (
    ("l_ankle", "l_knee"), ("l_knee", "l_hip"), ("r_ankle", "r_knee"), ("r_knee", "r_hip"),
    ("l_hip", "r_hip"), ("l_hip", "l_shoulder"), ("r_hip", "r_shoulder"), ("l_shoulder", "r_shoulder"),
    ("l_shoulder", "l_elbow"), ("l_elbow", "l_wrist"), ("r_shoulder", "r_elbow"), ("r_elbow", "r_wrist"),
)

# Pairs whose analysed series are functions of each other by construction, never tested: the
# hips (the pelvis is their midpoint, so one hip's centred series is minus the other's) and, with
# the pelvis taken over the mid-ankle point, the pelvis and each ankle.
HIP_PAIR: tuple[tuple[str, str], ...] = (("l_hip", "r_hip"),)
PELVIS_ANKLE_PAIRS: tuple[tuple[str, str], ...] = (("pelvis", "l_ankle"), ("pelvis", "r_ankle"))

# Segments joined in the body, along which motion can pass from the ground to the bat: the
# legs, the hips to the pelvis, the trunk (pelvis to each shoulder), the arms, and each wrist
# to the bat (both hands hold it). A timing path follows these, as the kinematic sequence does.
ADJACENT: tuple[tuple[str, str], ...] = (
    ("l_ankle", "l_knee"), ("l_knee", "l_hip"), ("r_ankle", "r_knee"), ("r_knee", "r_hip"),
    ("l_hip", "pelvis"), ("r_hip", "pelvis"), ("pelvis", "l_shoulder"), ("pelvis", "r_shoulder"),
    ("l_shoulder", "l_elbow"), ("l_elbow", "l_wrist"), ("r_shoulder", "r_elbow"), ("r_elbow", "r_wrist"),
    ("l_wrist", "bat"), ("r_wrist", "bat"),
)

# Anatomy rows for figures, ground (0) to bat (6).
ANATOMY_ROW = {
    "l_ankle": 0, "r_ankle": 0, "l_knee": 1, "r_knee": 1, "l_hip": 2, "r_hip": 2, "pelvis": 2,
    "l_shoulder": 3, "r_shoulder": 3, "l_elbow": 4, "r_elbow": 4, "l_wrist": 5, "r_wrist": 5,
    "bat": 6,
}


def shoulder_width(kp):
    """The shoulder line's length ``(...)`` of joints ``kp (..., J, 2)`` (the 13 joints, or
    the 14 nodes), numpy or torch alike: the scale every stage measures the body by (each
    caller keeps its own floor, such as a few pixels for a detector's division). The numbers are
    those of ``np.linalg.norm`` / ``torch.linalg.vector_norm``, to the bit."""
    d = kp[..., JOINT_INDEX["l_shoulder"], :] - kp[..., JOINT_INDEX["r_shoulder"], :]
    if hasattr(d, "detach"):  # a torch tensor
        import torch

        return torch.linalg.vector_norm(d, dim=-1)
    import numpy as np

    return np.linalg.norm(d, axis=-1)


def coco17_to_joints_index() -> list[int | tuple[int, int]]:
    """For each analysis joint, its COCO-17 index, or the pair averaged (pelvis = hip midpoint)."""
    out: list[int | tuple[int, int]] = []
    for name in JOINTS:
        if name == "pelvis":
            out.append((COCO17.index("l_hip"), COCO17.index("r_hip")))
        else:
            out.append(COCO17.index(name))
    return out


def coco17_to_joints(kps, scores):
    """COCO-17 keypoints ``(..., 17, 2)`` and scores ``(..., 17)`` (numpy) to the 13 analysis
    joints ``(..., 13, 2)``, ``(..., 13)`` float32: the pelvis is the hips' midpoint with the
    lower of their scores. Readers (``io``) and pose backends (``pose``) both use it."""
    import numpy as np

    kps, scores = np.asarray(kps), np.asarray(scores)
    out_k = np.empty((*kps.shape[:-2], len(JOINTS), 2), np.float32)
    out_s = np.empty((*scores.shape[:-1], len(JOINTS)), np.float32)
    for j, src in enumerate(coco17_to_joints_index()):
        if isinstance(src, tuple):
            out_k[..., j, :] = kps[..., list(src), :].mean(-2)
            out_s[..., j] = scores[..., list(src)].min(-1)
        else:
            out_k[..., j, :], out_s[..., j] = kps[..., src, :], scores[..., src]
    return out_k, out_s