"""decord reads exactly the frames written; bad files get one clear line."""

import numpy as np
import pytest
import torch

from corrkin.io.keypoints import ClipError
from corrkin.io.video import frame_indices, load_video, probe, read_video, write_video


@pytest.fixture(scope="module")
def lossless(tmp_path_factory):
    """40 frames of known content, 25 fps, encoded losslessly (H.264 RGB in Matroska)."""
    rng = np.random.default_rng(0)
    frames = (rng.random((40, 48, 64, 3)) * 255).astype(np.uint8)
    frames[:, :8, :8] = np.arange(40, dtype=np.uint8)[:, None, None, None] * 6  # a frame counter
    path = tmp_path_factory.mktemp("video") / "known.mkv"
    write_video(path, frames, 25, codec="libx264rgb")
    return path, frames


def test_reads_exactly_the_frames_written(lossless):
    path, frames = lossless
    video, info = load_video(path)
    assert (info.frames, info.fps, info.height, info.width) == (40, 25.0, 48, 64)
    assert video.dtype == torch.uint8 and video.shape == (40, 3, 48, 64)
    np.testing.assert_array_equal(video.permute(0, 2, 3, 1).numpy(), frames)


def test_chunks_stride_and_time_range(lossless):
    path, frames = lossless
    chunks = list(read_video(path, chunk_frames=7, stride=3, start_s=0.2, end_s=1.2))
    assert [len(c.index) for c in chunks] == [7, 2]  # frames 5, 8, ..., 29
    idx = torch.cat([c.index for c in chunks])
    assert idx.tolist() == list(range(5, 30, 3))
    torch.testing.assert_close(torch.cat([c.time_s for c in chunks]), idx.double() / 25)
    got = torch.cat([c.frames for c in chunks]).permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(got, frames[5:30:3])


def test_fps_override_and_resize(lossless):
    path, _ = lossless
    info = probe(path, fps=50, size=(24, 32))
    assert info.fps == 50 and (info.height, info.width) == (24, 32)
    assert frame_indices(info, start_s=0.5).tolist()[0] == 25  # 0.5 s at the overriding 50 fps
    video, _ = load_video(path, size=(24, 32))
    assert video.shape == (40, 3, 24, 32)


def test_h264_mp4_round_trip(tmp_path):
    x = np.zeros((12, 64, 96, 3), np.uint8)
    x[:, 16:48, 24:72] = (200, 60, 30)
    write_video(tmp_path / "a.mp4", x, 30)
    video, info = load_video(tmp_path / "a.mp4")
    assert (info.frames, info.fps) == (12, 30.0)
    assert np.abs(video.permute(0, 2, 3, 1).numpy().astype(int) - x).mean() < 2


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p, src: p.write_bytes(b""), "empty file"),
        (lambda p, src: p.write_bytes(b"\x00not a video" * 100), "not a readable video"),
        (lambda p, src: p.write_bytes(src.read_bytes()[: len(src.read_bytes()) // 3]), "not a readable video|truncated"),
    ],
    ids=["empty", "garbage", "truncated"],
)
def test_bad_files(tmp_path, lossless, make, message):
    bad = tmp_path / "bad.mkv"
    make(bad, lossless[0])
    with pytest.raises(ClipError, match=message) as err:
        list(read_video(bad))
    assert str(err.value).startswith(str(bad)) and "\n" not in str(err.value)


def test_errors(lossless, tmp_path):
    with pytest.raises(ClipError, match="no such file"):
        probe(tmp_path / "missing.mp4")
    with pytest.raises(ClipError, match="holds no frame"):
        list(read_video(lossless[0], start_s=5.0))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        list(read_video(lossless[0], stride=0))
    with pytest.raises(ValueError, match="expected uint8 frames"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 8, 8), np.uint8), 25)


@pytest.mark.parametrize("read_rgb", [True, False])
def test_decoded_once_keeps_the_frames(tmp_path, read_rgb, monkeypatch):
    """Pose reads the RGB chunks (or, with pose=file, nothing); the kept copies come from the
    same single decode and, the source being 4:2:0 H.264 of a real photograph, match what the
    pose model saw to a fraction of a grey level on average; then the temporary file goes."""
    import os

    from skimage import data

    import corrkin.io.video as video_mod

    img = data.astronaut()[::4, ::4]
    path = tmp_path / "photo.mp4"
    write_video(path, np.stack([np.roll(img, 3 * i, 1) for i in range(12)]), 25)
    decoded, _ = load_video(path)
    calls = []
    real = video_mod._chunks
    monkeypatch.setattr(video_mod, "_chunks", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    with video_mod.DecodedOnce(path, stride=2, chunk_frames=4) as video:
        if read_rgb:
            rgb = torch.cat(list(video.rgb()))
            assert torch.equal(rgb, decoded[::2])
        kept = torch.cat(list(video.kept()))
        where = video._dir.name
    assert calls == [1]  # one decode, whoever read first
    assert kept.shape == (6, 3, 128, 128) and kept.dtype == torch.uint8
    diff = (kept.float() - decoded[::2].float()).abs()
    assert diff.mean() <= 1.0 and torch.quantile(diff.flatten(), 0.99) <= 6  # measured: 0.41 and 4
    assert not os.path.exists(where)


def test_decoded_once_keeps_odd_sized_frames(tmp_path):
    """An odd height and width (possible losslessly): the copy is padded to even for 4:2:0
    and cropped back; its luma is the frames' own (ITU-R 601), to rounding in 99 % of pixels."""
    from skimage import data

    from corrkin.io.video import DecodedOnce

    frames = np.stack([np.roll(data.astronaut()[::4, ::4], 3 * i, 1)[:127, :125] for i in range(5)])
    path = tmp_path / "odd.mkv"
    write_video(path, frames, 25, codec="libx264rgb")
    with DecodedOnce(path) as video:
        kept = torch.cat(list(video.kept())).permute(0, 2, 3, 1).numpy().astype(float)
    assert kept.shape == (5, 127, 125, 3)
    luma = np.array([0.299, 0.587, 0.114])
    assert np.percentile(np.abs(kept @ luma - frames.astype(float) @ luma), 99) <= 4  # measured: 3.1


def test_decoded_once_names_a_broken_file(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    from corrkin.io.video import DecodedOnce

    with pytest.raises(ClipError, match="broken.mp4"):
        DecodedOnce(bad)
