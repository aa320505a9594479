"""Video in, with decord: batched frame reads straight into torch ``uint8`` tensors.

``read_video`` streams a clip in chunks of ``chunk_frames`` frames ``(N, 3, H, W)``, so memory
stays bounded whatever the clip's length; ``load_video`` reads a short clip whole. Frames can be
strided, cut to a time range and resized while decoding. The container's frame rate is used
unless ``fps`` overrides it (broadcast clips are often re-encoded with a wrong rate in the
header). An unreadable, empty or truncated file raises :class:`~corrkin.io.keypoints.ClipError`
with one line naming the file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from corrkin.io.keypoints import ClipError

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")


@dataclass
class VideoInfo:
    path: str
    frames: int
    fps: float  # the rate used for times: the override if given, else the container's
    height: int
    width: int


@dataclass
class VideoChunk:
    """Consecutive (after striding) frames of one clip."""

    frames: torch.Tensor  # (N, 3, H, W) uint8
    index: torch.Tensor  # (N,) frame numbers in the source
    time_s: torch.Tensor  # (N,) float64 seconds


def _reader(path: Path, size: tuple[int, int] | None):
    import decord

    if not path.is_file():
        raise ClipError(path, "no such file")
    if path.stat().st_size == 0:
        raise ClipError(path, "empty file")
    h, w = size if size is not None else (-1, -1)
    try:
        return decord.VideoReader(str(path), ctx=decord.cpu(0), width=w, height=h, num_threads=0)
    except (decord.DECORDError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ClipError(path, f"not a readable video ({first[:160]})") from None


def _declared_frames(path: Path) -> int | None:
    """Frames the container says it holds (its frame count, or duration x rate), or None.

    decord indexes only the packets present, so a cut-off file looks like a short one; the
    header, written before the cut, still tells the length."""
    import av

    try:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            if s.frames:
                return int(s.frames)
            if c.duration and s.average_rate:
                return int(round(c.duration / 1e6 * float(s.average_rate)))
    except (av.FFmpegError, IndexError, ValueError):
        return None
    return None


def _open(path: Path, fps: float | None, size: tuple[int, int] | None):
    """The decord reader and the :class:`VideoInfo` of a video, checked (one open)."""
    vr = _reader(path, size)
    n = len(vr)
    if n == 0:
        raise ClipError(path, "the video has no frames")
    declared = _declared_frames(path)
    if declared is not None and n < declared - 1:
        raise ClipError(path, f"truncated: {n} frames can be decoded of the {declared} its header declares")
    rate = float(fps) if fps is not None else float(vr.get_avg_fps())
    if not math.isfinite(rate) or rate <= 0:
        raise ClipError(path, f"frame rate {rate} is not usable: pass fps=<frames per second>")
    h, w = vr[0].shape[:2]
    return vr, VideoInfo(path=str(path), frames=n, fps=rate, height=int(h), width=int(w))


def probe(path: str | os.PathLike, fps: float | None = None, size: tuple[int, int] | None = None) -> VideoInfo:
    """Frame count, rate and (output) size of a video, decoding only its first frame."""
    return _open(Path(path), fps, size)[1]


def frame_indices(info: VideoInfo, stride: int = 1, start_s: float | None = None,
                  end_s: float | None = None) -> np.ndarray:
    """The source frames a read returns: every ``stride``-th frame in ``[start_s, end_s)``."""
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    first = 0 if start_s is None else max(0, math.ceil(start_s * info.fps - 1e-9))
    stop = info.frames if end_s is None else min(info.frames, math.ceil(end_s * info.fps - 1e-9))
    if first >= stop:
        raise ClipError(info.path, f"the time range [{start_s}, {end_s}) s holds no frame "
                                   f"({info.frames} frames at {info.fps:g} fps)")
    return np.arange(first, stop, stride)


def read_video(
    path: str | os.PathLike,
    fps: float | None = None,
    stride: int = 1,
    start_s: float | None = None,
    end_s: float | None = None,
    size: tuple[int, int] | None = None,
    chunk_frames: int = 64,
    device: str | torch.device = "cpu",
) -> Iterator[VideoChunk]:
    """Stream a video as chunks of at most ``chunk_frames`` frames.

    Args:
        fps: overrides the container's frame rate for ``time_s`` and the time range.
        stride: keep every ``stride``-th frame.
        start_s, end_s: keep frames with ``start_s <= t < end_s``.
        size: ``(height, width)`` to resize to while decoding.
        device: where the frames go (one copy per chunk).

    A file that breaks off mid-way raises :class:`ClipError` saying at which frame.
    """
    path = Path(path)
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
    vr, info = _open(path, fps, size)
    yield from _chunks(vr, info, path, frame_indices(info, stride, start_s, end_s), chunk_frames, device)


def _chunks(vr, info: VideoInfo, path: Path, idx: np.ndarray, chunk_frames: int, device) -> Iterator[VideoChunk]:
    import decord

    for k in range(0, len(idx), chunk_frames):
        sel = idx[k: k + chunk_frames]
        try:
            batch = vr.get_batch(sel.tolist()).asnumpy()
        except (decord.DECORDError, RuntimeError, IndexError) as e:
            raise ClipError(path, f"truncated or corrupt: decoding failed at frames {int(sel[0])}-{int(sel[-1])} "
                                  f"of {info.frames} ({str(e).strip().splitlines()[0][:120] if str(e).strip() else type(e).__name__})") from None
        if batch.shape[0] != len(sel):
            raise ClipError(path, f"truncated: {batch.shape[0]} of {len(sel)} frames decoded at frame {int(sel[0])}")
        frames = torch.from_numpy(batch).permute(0, 3, 1, 2).to(device)
        yield VideoChunk(frames=frames, index=torch.from_numpy(sel), time_s=torch.from_numpy(sel / info.fps))


class DecodedOnce:
    """One decode of a video for every stage that reads it.

    :meth:`rgb` streams the RGB chunks (for the pose backend) and, on its first pass, keeps a
    copy of every frame; :meth:`kept` streams those copies (for the batter's evidence and the
    bat, which work in colour), finishing the decode first where the first reader stopped
    early or never read (``pose=file``). The copies are kept as YUV 4:2:0 (I420, what an
    H.264 or VP9 stream holds anyway: full-resolution luma, chroma per 2 x 2 block; half the
    bytes of RGB, an odd last row or column padded by repetition) in a temporary file mapped
    in memory, so a long 1080p clip costs disk, not RAM; :meth:`close` (or leaving the
    ``with`` block) removes it. A reader that asks for the RGB frames again gets a fresh
    decode."""

    def __init__(self, path: str | os.PathLike, fps: float | None = None, stride: int = 1,
                 chunk_frames: int = 64, device: str | torch.device = "cpu"):
        import tempfile

        self.path, self.chunk_frames, self.device = Path(path), chunk_frames, torch.device(device)
        self._vr, self.info = _open(self.path, fps, None)
        self._idx = frame_indices(self.info, stride)
        self._dir = tempfile.TemporaryDirectory(prefix="corrkin-frames-")
        h, w = self.info.height, self.info.width
        self._even = (h + h % 2, w + w % 2)
        self._kept = np.lib.format.open_memmap(Path(self._dir.name) / "frames.npy", mode="w+", dtype=np.uint8,
                                               shape=(len(self._idx), self._even[0] * 3 // 2, self._even[1]))
        self._done = 0  # frames already in the copy
        self._teed = False

    def __enter__(self) -> DecodedOnce:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._kept = None
        self._dir.cleanup()

    def _keep(self, frames: torch.Tensor) -> None:
        import cv2

        (h, w), (h2, w2) = frames.shape[-2:], self._even
        for frame in frames.permute(0, 2, 3, 1).cpu().numpy():
            if (h2, w2) != (h, w):
                frame = cv2.copyMakeBorder(frame, 0, h2 - h, 0, w2 - w, cv2.BORDER_REPLICATE)
            cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420, dst=self._kept[self._done])
            self._done += 1

    def rgb(self) -> Iterator[torch.Tensor]:
        """RGB chunks ``(N, 3, H, W)`` uint8 on the device, in order. The next chunk is decoded
        (and its copy kept) in a background thread while the caller works on this one: decord
        releases the GIL, so decoding hides behind the pose model."""
        tee, self._teed = not self._teed, True
        chunks = _chunks(self._vr, self.info, self.path, self._idx, self.chunk_frames, self.device)

        def produce():
            chunk = next(chunks, None)
            if chunk is not None and tee:
                self._keep(chunk.frames)
            return chunk

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1, thread_name_prefix="corrkin-decode") as pool:
            ahead = pool.submit(produce)
            while (chunk := ahead.result()) is not None:
                ahead = pool.submit(produce)
                yield chunk.frames

    def kept(self) -> Iterator[torch.Tensor]:
        """The kept copies as RGB chunks ``(N, 3, H, W)`` uint8 on the device, in order (pixels
        interleaved in memory, as decoded)."""
        if self._done < len(self._idx):
            rest = self._idx[self._done:]
            for chunk in _chunks(self._vr, self.info, self.path, rest, self.chunk_frames, self.device):
                self._keep(chunk.frames)
        import cv2

        h, w = self.info.height, self.info.width
        for f0 in range(0, len(self._idx), self.chunk_frames):
            block = self._kept[f0: f0 + self.chunk_frames]
            rgb = np.stack([cv2.cvtColor(f, cv2.COLOR_YUV2RGB_I420)[:h, :w] for f in block])
            yield torch.from_numpy(rgb).permute(0, 3, 1, 2).to(self.device)


def load_video(path: str | os.PathLike, fps: float | None = None, stride: int = 1, start_s: float | None = None,
               end_s: float | None = None, size: tuple[int, int] | None = None,
               device: str | torch.device = "cpu") -> tuple[torch.Tensor, VideoInfo]:
    """A whole (short) clip: ``(T, 3, H, W)`` uint8 and its info (``fps`` as used); the
    arguments are :func:`read_video`'s."""
    path = Path(path)
    vr, info = _open(path, fps, size)
    idx = frame_indices(info, stride, start_s, end_s)
    return torch.cat([c.frames for c in _chunks(vr, info, path, idx, 256, device)]), info


def write_video(path: str | os.PathLike, frames: torch.Tensor | np.ndarray, fps: float,
                codec: str = "libx264", crf: int = 20) -> None:
    """Encode ``frames`` ``(T, 3, H, W)`` or ``(T, H, W, 3)`` uint8 RGB with PyAV (its wheel
    ships the encoder) and rename into place when done.

    ``libx264`` writes H.264 in yuv420p, which browsers play (even sizes needed);
    ``libx264rgb`` (``.mkv``) is lossless, for tests.
    """
    import av

    from corrkin.io.results import atomic_write

    arr = frames.cpu().numpy() if isinstance(frames, torch.Tensor) else np.asarray(frames)
    if arr.ndim != 4 or arr.dtype != np.uint8 or 3 not in (arr.shape[1], arr.shape[-1]):
        raise ValueError(f"write_video: expected uint8 frames (T, 3, H, W) or (T, H, W, 3), got {arr.dtype} {arr.shape}")
    if arr.shape[1] == 3 and arr.shape[-1] != 3:
        arr = arr.transpose(0, 2, 3, 1)
    arr = np.ascontiguousarray(arr)
    t, h, w, _ = arr.shape
    path = Path(path)
    fmt = {".mkv": "matroska", ".webm": "webm", ".mov": "mov", ".avi": "avi"}.get(path.suffix, "mp4")
    rgb = codec == "libx264rgb"
    with atomic_write(path) as f, av.open(f, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=round(fps) if float(fps).is_integer() else fps)
        stream.width, stream.height = w, h
        stream.pix_fmt = "rgb24" if rgb else "yuv420p"
        stream.options = {"qp": "0"} if rgb else {"crf": str(crf)}
        for frame in arr:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
