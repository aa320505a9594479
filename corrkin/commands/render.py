"""``corrkin render``: skeleton videos (and OpenPose pictures) of any keypoint files.

``corrkin render input=<keypoint file or folder> output=<folder> [video=<source video>]
[format=mp4|webm] [gif=true] [openpose=true] [bat=true]`` writes, per clip,
``<clip>_skeleton.<format>`` (normalised, or over ``video`` when given: one file only; a
``corrkin run`` output is read as its clips' ``<clip>/keypoints.npz``, each named after its clip),
``<clip>.gif`` and ``<clip>_openpose/<frame>.png`` (OpenPose's 18-point body on black, the bat
as an extra stick with ``bat=true``). A file that cannot be read is reported and the rest go on.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tqdm import tqdm

from corrkin.io.keypoints import ClipError, find_inputs, load_clip
from corrkin.io.results import atomic_write, fitting_name
from corrkin.render.skeleton import openpose_frames, write_skeleton_video

log = logging.getLogger(__name__)


def clips_to_render(root: str) -> list[tuple[str, Path]]:
    """``(clip name, keypoint file)`` for a keypoint file or a folder of them, or for the output
    folder of ``corrkin run`` or a library's ``clips/`` (``<clip>/keypoints.npz``): a file named
    ``keypoints.npz`` is named after its folder, the clip's."""
    items = find_inputs(root) or [(p.parent.name, p) for p in sorted(Path(root).glob("*/keypoints.npz"))]
    return [(path.parent.name if path.name == "keypoints.npz" else name, path) for name, path in items]


def _record(path: Path) -> dict | None:
    """The clip's ``result.json`` beside a ``corrkin run`` output's ``<clip>/keypoints.npz``, so
    its video counts time from impact and lights the path; None for a bare keypoint file (the
    video then counts from the clip's start) or a result that cannot be read."""
    from corrkin.io.results import ResultError, read_result

    if path.name != "keypoints.npz" or not (path.parent / "result.json").is_file():
        return None
    try:
        return read_result(path.parent)[0]
    except ResultError as e:
        log.warning("%s: drawn without its result (%s)", path, e)
        return None


def run_render(cfg) -> int:
    items = clips_to_render(cfg.input)
    if not items:
        raise FileNotFoundError(f"{cfg.input}: no keypoint files (nor <clip>/keypoints.npz, as corrkin run writes)")
    if cfg.video is not None and len(items) != 1:
        raise ValueError("video= overlays one clip: give one keypoint file as input")
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name, path in tqdm(items, desc="render", unit="clip", disable=None if cfg.progress else True):
        try:
            clip = load_clip(path, fps=cfg.fps, name=name)
        except ClipError as e:
            log.error("%s", e)
            failed += 1
            continue
        background, size = None, tuple(cfg.size)
        if cfg.video is not None:
            from corrkin.io.video import load_video

            frames, _ = load_video(cfg.video)
            if len(frames) < clip.frames:
                raise ValueError(f"{cfg.video}: {len(frames)} frames, fewer than the {clip.frames} of {path}")
            background = frames[: clip.frames].permute(0, 2, 3, 1).numpy()
            size = (background.shape[2], background.shape[1])
        try:
            write_skeleton_video(out / fitting_name(name, f"_skeleton.{cfg.format}"), clip, _record(path), size, background,
                                 gif=out / fitting_name(name, ".gif") if cfg.gif else None)
            if cfg.openpose:
                from PIL import Image

                op_size = size if background is not None else (1280, 720)
                for t, img in enumerate(openpose_frames(clip, op_size, cfg.bat)):
                    with atomic_write(out / fitting_name(name, "_openpose") / f"{t:05d}.png") as f:
                        Image.fromarray(img).save(f, format="PNG")
        except OSError as e:  # a full disk, a read-only folder: that clip fails, the others go on
            log.error("%s: could not write: %s", path, e.strerror or e)
            failed += 1
            continue
        log.info("%s rendered", name)
    return 1 if failed else 0
