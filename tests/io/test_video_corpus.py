"""A decoding corpus, made here with PyAV's encoders: every codec and container a user's footage
comes in decodes to its frames (within the codec's tolerance), in order, with the container's
own times; a variable frame rate keeps its true times and says so; every broken file is one line
naming it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from corrkin.io.keypoints import ClipError
from corrkin.io.video import DecodedOnce, load_video, probe, read_video

N = 24


def _frames(n: int = N, h: int = 64, w: int = 80) -> np.ndarray:
    """Smooth moving colour (codecs keep it well) with a frame counter: a bright block whose
    column tells the frame number."""
    y, x = np.mgrid[:h, :w]
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        out[i, ..., 0] = (128 + 100 * np.sin(x / 9 + i / 3)).astype(np.uint8)
        out[i, ..., 1] = (128 + 100 * np.cos(y / 7 - i / 5)).astype(np.uint8)
        out[i, ..., 2] = 90
        out[i, 4:12, 4 + 2 * i: 10 + 2 * i] = 255
    return out


def _encode(path: Path, frames: np.ndarray, codec: str, pix_fmt: str, rate=25, times_s=None,
            rotation: int = 0, options: dict | None = None, container_options: dict | None = None) -> Path:
    """Encode with PyAV; ``times_s`` gives each frame's presentation time (ms time base)."""
    import av

    with av.open(str(path), "w", options=container_options or {}) as c:
        s = c.add_stream(codec, rate=rate)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], pix_fmt
        s.options = options or {}
        if times_s is not None:
            s.time_base = s.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            s.set_display_rotation(rotation)
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            if times_s is not None:
                vf.pts, vf.time_base = int(round(times_s[i] * 1000)), Fraction(1, 1000)
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _reference(path: Path) -> np.ndarray:
    """PyAV's own decode of every frame, in presentation order."""
    import av

    with av.open(str(path)) as c:
        frames = sorted(((f.pts, f.to_ndarray(format="rgb24")) for f in c.decode(video=0)), key=lambda t: t[0])
    return np.stack([f for _, f in frames])


CORPUS = {  # name: (file, codec, pixel format, mean |error| allowed against the source, grey levels)
    "h264_420": ("a.mp4", "libx264", "yuv420p", 6),
    "h264_444": ("b.mp4", "libx264", "yuv444p", 4),
    "h264_10bit": ("c.mkv", "libx264", "yuv420p10le", 6),
    "hevc": ("d.mp4", "libx265", "yuv420p", 8),
    "vp9": ("e.webm", "libvpx-vp9", "yuv420p", 8),
    "av1": ("f.mkv", "libsvtav1", "yuv420p", 8),
    "mjpeg": ("g.avi", "mjpeg", "yuvj420p", 8),
    "mpeg4_avi": ("h.avi", "mpeg4", "yuv420p", 12),
}


@pytest.mark.parametrize("name", list(CORPUS))
def test_every_codec_decodes_to_its_frames(name, tmp_path):
    import av

    file, codec, pix_fmt, tolerance = CORPUS[name]
    try:
        av.codec.Codec(codec, "w")
    except av.codec.codec.UnknownCodecError:
        pytest.skip(f"PyAV's wheel has no {codec} encoder here")
    source = _frames()
    path = _encode(tmp_path / file, source, codec, pix_fmt)
    video, info = load_video(path)
    got = video.permute(0, 2, 3, 1).numpy()
    assert (info.frames, info.height, info.width) == (N, 64, 80) and info.fps == pytest.approx(25, rel=1e-3)
    np.testing.assert_array_equal(got, _reference(path))  # FFmpeg's frames, every one, in order
    assert np.abs(got.astype(int) - source).mean() <= tolerance
    assert not info.variable
    np.testing.assert_allclose(info.times_s, np.arange(N) / 25, atol=1e-3)


def test_odd_sizes_and_a_strided_time_range(tmp_path):
    source = _frames(30, 99, 177)  # odd both ways, as 1768 x 994 / 10 (VP9 takes odd sizes)
    path = _encode(tmp_path / "odd.webm", source, "libvpx-vp9", "yuv420p")
    ref = _reference(path)
    chunks = list(read_video(path, chunk_frames=4, stride=3, start_s=0.4, end_s=1.0))
    idx = torch.cat([c.index for c in chunks]).tolist()
    assert idx == list(range(10, 25, 3))
    np.testing.assert_array_equal(torch.cat([c.frames for c in chunks]).permute(0, 2, 3, 1).numpy(), ref[10:25:3])


def test_a_recorded_rotation_is_applied(tmp_path):
    source = _frames(6, 48, 80)
    path = _encode(tmp_path / "upright.mp4", source, "libx264", "yuv444p", rotation=90)
    video, info = load_video(path)
    assert (info.height, info.width) == (80, 48)  # shown as the phone was held
    got = video.permute(0, 2, 3, 1).numpy().astype(int)
    assert np.abs(got - np.rot90(source, 1, axes=(1, 2))).mean() < 4  # counter-clockwise, as recorded


def test_a_variable_frame_rate_keeps_its_true_times(tmp_path):
    """A phone's slow motion: 240 fps around the swing, 30 fps either side (ms time base)."""
    dt = np.r_[np.full(8, 1 / 30), np.full(12, 1 / 240), np.full(8, 1 / 30)]
    times = np.r_[0, np.cumsum(dt)][:28]
    source = _frames(28)
    path = _encode(tmp_path / "vfr.mkv", source, "libx264rgb", "rgb24", rate=None, times_s=times,
                   options={"qp": "0"})
    info = probe(path)
    np.testing.assert_allclose(info.times_s, np.round(times * 1000) / 1000, atol=1e-9)
    assert info.variable
    timing = info.timing()
    assert timing["variable_frame_rate"] and timing["source"] == "container timestamps"
    assert timing["frame_interval_ms_range"] == [4.0, 34.0]  # 1/240 and 1/30 s, to the ms the file holds
    chunks = list(read_video(path, chunk_frames=5))
    np.testing.assert_allclose(torch.cat([c.time_s for c in chunks]).numpy(), info.times_s)
    np.testing.assert_array_equal(torch.cat([c.frames for c in chunks]).permute(0, 2, 3, 1).numpy(), source)
    constant = probe(path, fps=30)  # a rate given: constant times, said so
    assert not constant.variable and constant.timing()["source"] == "fps given"


def test_one_frame(tmp_path):
    path = _encode(tmp_path / "one.mp4", _frames(1), "libx264", "yuv420p")
    video, info = load_video(path)
    assert video.shape == (1, 3, 64, 80) and info.frames == 1


def _audio_only(path: Path) -> Path:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("aac", rate=44100)
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, 1024 * i
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _png_as_mp4(path: Path) -> Path:
    import av

    with av.open(str(path.with_suffix(".png")), "w", format="image2") as c:
        s = c.add_stream("png")
        s.width, s.height, s.pix_fmt = 80, 64, "rgb24"
        for p in [*s.encode(av.VideoFrame.from_ndarray(_frames(1)[0], format="rgb24")), *s.encode()]:
            c.mux(p)
    path.write_bytes(path.with_suffix(".png").read_bytes())
    return path


@pytest.mark.parametrize("make,message", [
    (lambda p: _audio_only(p), r"no video stream \(audio only\)"),
    (lambda p: p.write_bytes(b"\x00not a video" * 100), "not a readable video"),
    (lambda p: p.write_bytes(b""), "empty file"),
], ids=["audio_only", "garbage", "empty"])
def test_files_without_a_video_are_one_line(make, message, tmp_path):
    path = tmp_path / "bad.mp4"
    make(path)
    with pytest.raises(ClipError, match=message) as err:
        probe(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_an_image_renamed_mp4_is_one_frame(tmp_path):
    """FFmpeg reads a picture by its content, whatever its name: a one-frame video, which the
    analysis then refuses as too short."""
    video, info = load_video(_png_as_mp4(tmp_path / "photo.mp4"))
    assert info.frames == 1
    np.testing.assert_array_equal(video.permute(0, 2, 3, 1).numpy()[0], _frames(1)[0])


@pytest.mark.parametrize("where", ["cut_off", "corrupt_middle"])
def test_a_damaged_file_is_decoded_or_one_line(where, tmp_path):
    """Cut off, or with its middle overwritten: either every frame FFmpeg can give (it conceals
    damage inside a frame) or one line naming the file; never a crash."""
    path = _encode(tmp_path / "clip.mp4", _frames(48), "libx264", "yuv420p",
                   container_options={"movflags": "faststart"})  # the index first, as phones write
    data = bytearray(path.read_bytes())
    if where == "cut_off":
        data = data[: len(data) * 2 // 3]
    else:
        mid = len(data) // 2
        data[mid: mid + 2000] = bytes(2000)
    path.write_bytes(bytes(data))
    try:
        video, info = load_video(path)
    except ClipError as e:
        assert str(e).startswith(str(path)) and "\n" not in str(e)
        assert where == "corrupt_middle" or "truncated" in str(e) or "cut off" in str(e)
        return
    assert where == "corrupt_middle" and video.shape[0] == info.frames == 48


def test_the_kept_copy_is_bounded_by_the_temporary_disk(tmp_path, monkeypatch):
    """A video whose copy would not fit is decoded twice instead: the same frames, no copy."""
    path = _encode(tmp_path / "a.mp4", _frames(20), "libx264", "yuv420p")
    with DecodedOnce(path, chunk_frames=6) as once:
        assert once.keeps
        first = torch.cat(list(once.rgb()))
        kept = torch.cat(list(once.kept()))
    with DecodedOnce(path, chunk_frames=6, keep_limit=1000) as twice:
        assert not twice.keeps
        again = torch.cat(list(twice.rgb()))
        redecoded = torch.cat(list(twice.kept()))
        assert not any(Path(twice._dir.name).iterdir())
    assert torch.equal(first, again) and torch.equal(kept, redecoded)  # the same pixels, copy or not
    assert (kept.float() - first.float()).abs().mean() < 1.5  # the 4:2:0 copy
    import shutil

    import corrkin.io.video as video_mod

    full = shutil.disk_usage(tmp_path)._replace(free=10 * 2**20)
    monkeypatch.setattr(video_mod.shutil, "disk_usage", lambda p: full)
    with DecodedOnce(path) as no_room:
        assert not no_room.keeps
