"""Video in, with PyAV (FFmpeg inside its wheels, on every platform): frames streamed in chunks
straight into torch ``uint8`` tensors, each with its time from the container's timestamps.

``read_video`` streams a clip in chunks of ``chunk_frames`` frames ``(N, 3, H, W)``, so memory
stays bounded whatever the clip's length; ``load_video`` reads a short clip whole. Frames can be
strided, cut to a time range and resized while decoding; a rotation the container records (a
phone held upright) is applied. Each frame's time is its presentation timestamp, so a
variable-frame-rate video (phone slow motion, screen recordings) keeps its true times
(:attr:`VideoInfo.times_s`, :meth:`VideoInfo.timing`); ``fps`` overrides them with a constant
rate (broadcast clips are often re-encoded with a wrong rate in the header). An unreadable,
empty or truncated file raises :class:`~corrkin.io.keypoints.ClipError` with one line naming
the file.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from corrkin.io.keypoints import ClipError

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")

# a frame rate is variable where a frame interval strays more than this share from the median
# (container time bases round a constant rate by well under this: 1 ms in 33 ms for Matroska)
VFR_TOLERANCE = 0.1


@dataclass
class VideoInfo:
    path: str
    frames: int
    fps: float  # the rate used for times: the override if given, else 1 / the median frame interval
    height: int
    width: int
    times_s: np.ndarray = field(default=None, repr=False)  # (frames,) each frame's time, s (the first at 0)
    given_fps: bool = False  # fps was given: times are index / fps, not the timestamps

    def __post_init__(self) -> None:
        if self.times_s is None:
            self.times_s = np.arange(self.frames) / self.fps

    @property
    def variable(self) -> bool:
        """Whether the frames' timestamps stray from one constant rate (:data:`VFR_TOLERANCE`)."""
        return _varies(np.diff(self.times_s))

    def timing(self) -> dict:
        """The frame timing for a clip's quality block: where times come from, the median rate
        and the spread of the frame intervals (5th, 50th, 95th percentile, ms)."""
        dt = np.diff(self.times_s) * 1000
        spread = [round(float(q), 3) for q in np.percentile(dt, [5, 50, 95])] if len(dt) else []
        return {"source": "fps given" if self.given_fps else "container timestamps",
                "variable_frame_rate": self.variable, "median_fps": round(self.fps, 4),
                "frame_interval_ms_p5_p50_p95": spread,
                "frame_interval_ms_range": [round(float(dt.min()), 3), round(float(dt.max()), 3)] if len(dt) else []}


def _varies(dt: np.ndarray) -> bool:
    """Whether frame intervals ``dt`` stray from their median by more than :data:`VFR_TOLERANCE`."""
    return len(dt) > 1 and bool(np.abs(dt / np.median(dt) - 1).max() > VFR_TOLERANCE)


@dataclass
class VideoChunk:
    """Consecutive (after striding) frames of one clip."""

    frames: torch.Tensor  # (N, 3, H, W) uint8
    index: torch.Tensor  # (N,) frame numbers in the source
    time_s: torch.Tensor  # (N,) float64 seconds


def _first_line(e: BaseException) -> str:
    """FFmpeg's words for an error, without the errno and the file's name (the line names it)."""
    import av

    if isinstance(e, av.FFmpegError) and e.strerror:
        return e.strerror[:160]
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:160]


def _container(path: Path):
    import av

    if not path.is_file():
        raise ClipError(path, "no such file")
    if path.stat().st_size == 0:
        raise ClipError(path, "empty file")
    try:
        container = av.open(str(path))
    except av.InvalidDataError:
        raise ClipError(path, "not a readable video (FFmpeg finds no valid data: not a video, or damaged or "
                              "cut off before its index)") from None
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise ClipError(path, f"not a readable video ({_first_line(e)})") from None
    if not container.streams.video:
        what = "audio only" if container.streams.audio else "no streams FFmpeg can read"
        container.close()
        raise ClipError(path, f"no video stream ({what})")
    return container


def _timestamps(path: Path, container) -> tuple[np.ndarray, np.ndarray | None, float]:
    """Every frame's presentation timestamp from the packets alone (no decoding), sorted
    (decoders give frames in this order): in seconds from the first frame, and in the stream's
    own ticks (None where the stream has no usable timestamps: then frames are counted); and
    the stream's declared rate (0 where none)."""
    import av

    stream = container.streams.video[0]
    pts: list[int] = []
    try:
        for packet in container.demux(stream):
            if packet.size and packet.stream is stream:
                pts.append(packet.pts if packet.pts is not None else (packet.dts if packet.dts is not None else -1))
    except av.FFmpegError as e:
        raise ClipError(path, f"truncated or corrupt: the stream breaks off after {len(pts)} frames "
                              f"({_first_line(e)})") from None
    base = float(stream.time_base) if stream.time_base else 0.0
    rate = float(stream.average_rate or stream.guessed_rate or 0)
    if not pts:
        return np.zeros(0), None, rate
    ticks = np.asarray(pts, np.int64)
    if (ticks < 0).any() or base <= 0 or len(np.unique(ticks)) < len(ticks):  # none usable: the rate's
        return np.arange(len(ticks)) / rate if rate > 0 else np.full(len(ticks), np.nan), None, rate
    ticks = np.sort(ticks)
    return (ticks - ticks[0]) * base, ticks, rate


def _declared_frames(container) -> int | None:
    """Frames the container says it holds (its frame count, or duration x rate), or None: a
    cut-off file's header, written before the cut, still tells the length."""
    s = container.streams.video[0]
    if s.frames:
        return int(s.frames)
    if container.duration and s.average_rate:
        return int(round(container.duration / 1e6 * float(s.average_rate)))
    return None


@dataclass
class _Source:
    path: Path
    info: VideoInfo
    size: tuple[int, int] | None  # (height, width) to resize to, before rotation
    rotation: int  # degrees counter-clockwise to display upright: 0, 90, 180, 270
    ticks: np.ndarray | None  # each frame's timestamp in the stream's ticks (sorted), to number decoded frames


def _open(path: Path, fps: float | None, size: tuple[int, int] | None) -> _Source:
    """The checked facts of a video (one demux of its packets and one decoded frame)."""
    path = Path(path)
    with _container(path) as container:
        pts_s, ticks, rate = _timestamps(path, container)
        n = len(pts_s)
        if n == 0:
            raise ClipError(path, "the video has no frames")
        declared = _declared_frames(container)
        if declared is not None and n < declared - 1 and n < 0.99 * declared:
            raise ClipError(path, f"truncated: {n} frames in the file of the {declared} its header declares")
        first = _decode_first(path, container)
    rotation = int(round(getattr(first, "rotation", 0) or 0)) % 360
    rotation = rotation if rotation in (0, 90, 180, 270) else 0
    h, w = size if size is not None else (first.height, first.width)
    if rotation in (90, 270):
        h, w = w, h
    times, used = _times(pts_s, rate, fps)
    if not math.isfinite(used) or used <= 0:
        raise ClipError(path, f"frame rate {used} is not usable: pass fps=<frames per second>")
    info = VideoInfo(path=str(path), frames=n, fps=used, height=int(h), width=int(w), times_s=times,
                     given_fps=fps is not None)
    return _Source(path, info, size, rotation, ticks)


def _times(pts_s: np.ndarray, declared: float, fps: float | None) -> tuple[np.ndarray, float]:
    """Each frame's time (s) and the rate (frames/s) the analysis takes: ``fps`` where given
    (times index / fps); at a constant rate the container's declared rate where it agrees
    with the timestamps (so 25 is 25, not 1 / 0.04000000001), else 1 / the median interval;
    at a variable rate the timestamps themselves, with 1 / the median interval."""
    n = len(pts_s)
    if fps is not None:
        return np.arange(n) / float(fps), float(fps)
    dt = np.diff(pts_s)
    if n < 2 or not np.isfinite(pts_s).all() or not (dt > 0).all():
        return np.arange(n) / declared if declared > 0 else np.full(n, np.nan), declared
    median = float(np.median(dt))
    if _varies(dt):
        return pts_s, 1.0 / median
    rate = declared if declared > 0 and abs(declared * median - 1) < VFR_TOLERANCE / 10 else 1.0 / median
    return np.arange(n) / rate, rate


def _decode_first(path: Path, container):
    import av

    container.seek(0)
    try:
        for frame in container.decode(video=0):
            return frame
    except (av.FFmpegError, ValueError) as e:
        raise ClipError(path, f"not a readable video: its first frame cannot be decoded ({_first_line(e)})") from None
    raise ClipError(path, "not a readable video: no frame can be decoded")


def probe(path: str | os.PathLike, fps: float | None = None, size: tuple[int, int] | None = None) -> VideoInfo:
    """Frame count, rate, times and (output) size of a video, decoding only its first frame."""
    return _open(Path(path), fps, size).info


def frame_indices(info: VideoInfo, stride: int = 1, start_s: float | None = None,
                  end_s: float | None = None) -> np.ndarray:
    """The source frames a read returns: every ``stride``-th frame with ``start_s <= t < end_s``."""
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    eps = 1e-9
    first = 0 if start_s is None else int(np.searchsorted(info.times_s, start_s - eps))
    stop = info.frames if end_s is None else int(np.searchsorted(info.times_s, end_s - eps))
    if first >= stop:
        raise ClipError(info.path, f"the time range [{start_s}, {end_s}) s holds no frame "
                                   f"({info.frames} frames at {info.fps:g} fps)")
    return np.arange(first, stop, stride)


def _frames(src: _Source, idx: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """``(frame number, (H, W, 3) uint8 RGB)`` for each frame of ``idx`` (sorted), decoded in
    order with FFmpeg's threads; a start past the first frame seeks to the key frame before it."""
    import av

    wanted = set(idx.tolist())
    last = int(idx[-1])
    h, w = src.size if src.size is not None else (None, None)
    got = 0
    with _container(src.path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        start = int(idx[0])
        if start > 0 and src.ticks is not None:  # to the key frame at or before the first wanted
            container.seek(int(src.ticks[start]), stream=stream, backward=True, any_frame=False)
        k = given = -1
        try:
            for frame in container.decode(stream):
                k = _number(src.ticks, frame.pts, k)
                if k in wanted and k > given:
                    rgb = frame.to_ndarray(format="rgb24", width=w, height=h)  # None: the frame's own size
                    if src.rotation:
                        rgb = np.ascontiguousarray(np.rot90(rgb, src.rotation // 90))
                    yield k, rgb
                    got, given = got + 1, k
                if k >= last:
                    break
        except av.FFmpegError as e:
            raise ClipError(src.path, f"truncated or corrupt: decoding failed after frame {k} of {src.info.frames} "
                                      f"({_first_line(e)})") from None
    if got < len(idx):
        raise ClipError(src.path, f"truncated or corrupt: {got} of the {len(idx)} frames asked for could be decoded")


def _number(ticks: np.ndarray | None, pts: int | None, previous: int) -> int:
    """A decoded frame's number: where its timestamp stands among every frame's (the nearest),
    else the one after the previous frame's."""
    if ticks is None or pts is None:
        return previous + 1
    i = int(np.searchsorted(ticks, pts))
    if i == len(ticks) or (i > 0 and pts - ticks[i - 1] < ticks[i] - pts):
        i -= 1
    return i


def _chunks(src: _Source, idx: np.ndarray, chunk_frames: int, device) -> Iterator[VideoChunk]:
    batch: list[np.ndarray] = []
    numbers: list[int] = []
    for k, rgb in _frames(src, idx):
        batch.append(rgb)
        numbers.append(k)
        if len(batch) == chunk_frames:
            yield _chunk(src, batch, numbers, device)
            batch, numbers = [], []
    if batch:
        yield _chunk(src, batch, numbers, device)


def _chunk(src: _Source, batch: list[np.ndarray], numbers: list[int], device) -> VideoChunk:
    sel = np.asarray(numbers)
    frames = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).to(device)
    return VideoChunk(frames=frames, index=torch.from_numpy(sel), time_s=torch.from_numpy(src.info.times_s[sel]))


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
        fps: a constant rate for ``time_s`` and the time range instead of the timestamps.
        stride: keep every ``stride``-th frame.
        start_s, end_s: keep frames with ``start_s <= t < end_s``.
        size: ``(height, width)`` to resize to while decoding (before a recorded rotation).
        device: where the frames go (one copy per chunk).

    A file that breaks off mid-way raises :class:`ClipError` saying where.
    """
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
    src = _open(Path(path), fps, size)
    yield from _chunks(src, frame_indices(src.info, stride, start_s, end_s), chunk_frames, device)


# the most temporary disk one video's kept frames may take; a longer video is decoded twice instead
KEEP_LIMIT_BYTES = 2 * 2**30
# free space left on the temporary disk after the copy is reserved
KEEP_MARGIN_BYTES = 512 * 2**20


class DecodedOnce:
    """One decode of a video for every stage that reads it, where the temporary disk allows.

    :meth:`rgb` streams the RGB chunks (for the pose backend) and, on its first pass, keeps a
    copy of every frame; :meth:`kept` streams those copies (for the batter's evidence and the
    bat, which work in colour), finishing the decode first where the first reader stopped
    early or never read (``pose=file``). The copies are kept as YUV 4:2:0 (I420, what an
    H.264 or VP9 stream holds anyway: full-resolution luma, chroma per 2 x 2 block; half the
    bytes of RGB, an odd last row or column padded by repetition) in a temporary file mapped
    in memory, so a long 1080p clip costs disk, not RAM. The file is reserved whole before any
    frame is written (a full disk is known then, not met mid-way as a crash), and only where it
    fits: within :data:`KEEP_LIMIT_BYTES` and the free space of the temporary folder less
    :data:`KEEP_MARGIN_BYTES`. A video that does not fit is decoded a second time by
    :meth:`kept` instead (``keeps`` says which), so temporary disk and memory stay bounded
    whatever the video's length. :meth:`close` (or leaving the ``with`` block) removes the
    file. A reader that asks for the RGB frames again gets a fresh decode."""

    def __init__(self, path: str | os.PathLike, fps: float | None = None, stride: int = 1,
                 chunk_frames: int = 64, device: str | torch.device = "cpu", keep_limit: int | None = None):
        self.path, self.chunk_frames, self.device = Path(path), chunk_frames, torch.device(device)
        self._src = _open(self.path, fps, None)
        self.info = self._src.info
        self._idx = frame_indices(self.info, stride)
        h, w = self.info.height, self.info.width
        self._even = (h + h % 2, w + w % 2)
        self._dir = tempfile.TemporaryDirectory(prefix="corrkin-frames-")
        self._kept = self._reserve(KEEP_LIMIT_BYTES if keep_limit is None else keep_limit)
        self.keeps = self._kept is not None
        self._done = 0  # frames already in the copy
        self._teed = False

    def _reserve(self, limit: int):
        """The memory-mapped copy, its whole size reserved on disk, or None where it does not fit."""
        shape = (len(self._idx), self._even[0] * 3 // 2, self._even[1])
        need = int(np.prod(shape))
        free = shutil.disk_usage(self._dir.name).free
        if need > limit or need + KEEP_MARGIN_BYTES > free:
            return None
        file = Path(self._dir.name) / "frames.npy"
        kept = np.lib.format.open_memmap(file, mode="w+", dtype=np.uint8, shape=shape)
        try:  # a sparse file would fail on a full disk only when a page is written: SIGBUS
            with open(file, "r+b") as f:
                if hasattr(os, "posix_fallocate"):
                    os.posix_fallocate(f.fileno(), 0, os.path.getsize(file))
        except OSError:
            del kept
            file.unlink(missing_ok=True)
            return None
        return kept

    @property
    def times_s(self) -> np.ndarray:
        """The time (s) of each frame read, from the container's timestamps (or ``fps``)."""
        return self.info.times_s[self._idx]

    def __enter__(self) -> DecodedOnce:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._kept = None
        self._dir.cleanup()

    def _i420(self, frame: np.ndarray, dst: np.ndarray | None = None) -> np.ndarray:
        """One ``(H, W, 3)`` RGB frame as the copy holds it: I420, padded to even sizes."""
        import cv2

        (h, w), (h2, w2) = frame.shape[:2], self._even
        if (h2, w2) != (h, w):
            frame = cv2.copyMakeBorder(frame, 0, h2 - h, 0, w2 - w, cv2.BORDER_REPLICATE)
        return cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420, dst=dst)

    def _rgb(self, block: np.ndarray) -> torch.Tensor:
        """I420 frames back to RGB ``(N, 3, H, W)`` on the device, cropped to the video's size."""
        import cv2

        h, w = self.info.height, self.info.width
        rgb = np.stack([cv2.cvtColor(f, cv2.COLOR_YUV2RGB_I420)[:h, :w] for f in block])
        return torch.from_numpy(rgb).permute(0, 3, 1, 2).to(self.device)

    def _keep(self, frames: torch.Tensor) -> None:
        if self._kept is None:
            return
        for frame in frames.permute(0, 2, 3, 1).cpu().numpy():
            self._i420(frame, dst=self._kept[self._done])
            self._done += 1

    def rgb(self) -> Iterator[torch.Tensor]:
        """RGB chunks ``(N, 3, H, W)`` uint8 on the device, in order. The next chunk is decoded
        (and its copy kept) in a background thread while the caller works on this one: FFmpeg
        decodes without the GIL, so decoding hides behind the pose model."""
        tee, self._teed = not self._teed, True
        chunks = _chunks(self._src, self._idx, self.chunk_frames, self.device)

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
        """The frames again as RGB chunks ``(N, 3, H, W)`` uint8 on the device, in order: the
        kept copies (pixels interleaved in memory, as decoded), or, where the copy did not fit
        on the temporary disk, a second decode taken through the same 4:2:0 round trip, so the
        later stages see the same pixels whether or not the disk had room."""
        if self._kept is None:  # decoded again, through the copy's I420: the same pixels either way
            for chunk in _chunks(self._src, self._idx, self.chunk_frames, "cpu"):
                yield self._rgb(np.stack([self._i420(f) for f in chunk.frames.permute(0, 2, 3, 1).numpy()]))
            return
        if self._done < len(self._idx):
            for chunk in _chunks(self._src, self._idx[self._done:], self.chunk_frames, self.device):
                self._keep(chunk.frames)
        for f0 in range(0, len(self._idx), self.chunk_frames):
            yield self._rgb(self._kept[f0: f0 + self.chunk_frames])


def load_video(path: str | os.PathLike, fps: float | None = None, stride: int = 1, start_s: float | None = None,
               end_s: float | None = None, size: tuple[int, int] | None = None,
               device: str | torch.device = "cpu") -> tuple[torch.Tensor, VideoInfo]:
    """A whole (short) clip: ``(T, 3, H, W)`` uint8 and its info (``fps`` as used); the
    arguments are :func:`read_video`'s."""
    src = _open(Path(path), fps, size)
    idx = frame_indices(src.info, stride, start_s, end_s)
    return torch.cat([c.frames for c in _chunks(src, idx, 256, device)]), src.info
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
