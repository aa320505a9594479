"""Decoding speed and the temporary disk of ``corrkin.io.video`` (PyAV) at 1080p.

    python benchmarks/video.py                   # 120 frames per codec, 2 repeats
    python benchmarks/video.py --frames 240 --codecs libx264

Encodes a moving 1920x1080 picture (scikit-image's photographs tiled, panned 7 px a frame: the
detail and motion of broadcast footage) with each codec, then per codec, frames/s of:
FFmpeg's decode alone (PyAV frames, no colour conversion: the floor), PyAV's decode to RGB
arrays in a plain loop (the reference), ``read_video`` (frames as ``(N, 3, H, W)`` uint8
tensors, in chunks: what the pose backends get) and ``DecodedOnce`` (``rgb()`` with the copy
kept, then ``kept()``: what ``corrkin run`` does), with the copy's size on the temporary disk
and the limit that bounds it. The best of ``--repeats`` runs; the ratio is against the plain
PyAV loop.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def picture(frames: int, h: int = 1080, w: int = 1920) -> np.ndarray:
    from skimage import data

    tiles = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()]
    row = np.concatenate([t[:300, :600] for t in tiles], 1)
    big = np.concatenate([row, row[::-1], row, row[::-1]], 0)  # 1200 x 2400
    return np.stack([np.roll(big, 7 * i, 1)[:h, :w] for i in range(frames)])


def encode(path: Path, frames: np.ndarray, codec: str) -> Path:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=25)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        s.options = {"crf": "23", "preset": "veryfast"} if codec == "libx264" else {"crf": "32", "speed": "8"}
        if codec == "libx265":
            s.options = {"crf": "26", "preset": "ultrafast"}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def measure(path: Path, n: int, repeats: int) -> dict:
    import av

    from corrkin.io.video import KEEP_LIMIT_BYTES, DecodedOnce, read_video

    def floor():
        with av.open(str(path)) as c:
            c.streams.video[0].thread_type = "AUTO"
            assert sum(1 for _ in c.decode(video=0)) == n

    def plain():
        with av.open(str(path)) as c:
            c.streams.video[0].thread_type = "AUTO"
            assert sum(f.to_ndarray(format="rgb24").shape[0] > 0 for f in c.decode(video=0)) == n

    def chunks():
        assert sum(len(c.index) for c in read_video(path)) == n

    copy = {}

    def once():
        with DecodedOnce(path) as video:
            assert sum(len(c) for c in video.rgb()) == n
            copy["bytes"] = sum(f.stat().st_size for f in Path(video._dir.name).iterdir())
            assert sum(len(c) for c in video.kept()) == n

    out = {name: n / best(fn, repeats) for name, fn in
           [("decode only", floor), ("PyAV to RGB", plain), ("read_video", chunks), ("DecodedOnce", once)]}
    out["copy MB"] = copy["bytes"] / 1e6
    out["limit MB"] = KEEP_LIMIT_BYTES / 1e6
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--codecs", nargs="+", default=["libx264", "libvpx-vp9", "libx265"])
    args = ap.parse_args()
    frames = picture(args.frames)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for codec in args.codecs:
            path = encode(Path(tmp) / f"clip_{codec}.mkv", frames, codec)
            rows.append((codec, measure(path, args.frames, args.repeats)))
    print(f"\n1920x1080, {args.frames} frames, best of {args.repeats}; frames/s (ratio to PyAV to RGB)\n")
    print("| codec | decode only | PyAV to RGB | read_video | DecodedOnce (rgb + kept) | copy on disk | copy limit |")
    print("|---|---|---|---|---|---|---|")
    for codec, m in rows:
        ref = m["PyAV to RGB"]
        cells = [f"{m[k]:.0f} ({m[k] / ref:.2f}x)" for k in ("decode only", "PyAV to RGB", "read_video", "DecodedOnce")]
        print(f"| {codec} | " + " | ".join(cells) + f" | {m['copy MB']:.0f} MB | {m['limit MB']:.0f} MB |")


if __name__ == "__main__":
    main()
