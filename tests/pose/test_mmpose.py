"""pose=mmpose with random weights: the batched path equals mmpose's and mmdet's own inference."""

import os
import warnings

import numpy as np
import pytest
import torch

if os.environ.get("CORRKIN_REQUIRE_MMPOSE"):  # make test installs it: a broken install must fail
    import mmpose.apis  # noqa: F401
else:
    pytest.importorskip("mmpose.apis", reason="mmpose is installed by `make mmpose`")
from skimage import data  # noqa: E402

from corrkin.pose.mmpose import MMPose, find_config, topdown_boxes  # noqa: E402

warnings.filterwarnings("ignore", category=UserWarning)
warnings.filterwarnings("ignore", category=FutureWarning)


@pytest.fixture(scope="module")
def pose_only():
    torch.manual_seed(0)
    return MMPose(checkpoint=None, detector_config=None)


@pytest.fixture(scope="module")
def with_detector():
    torch.manual_seed(1)
    return MMPose(checkpoint=None, detector_checkpoint=None, bbox_thr=0.0, max_people=3)


def test_configs_found_in_the_wheels():
    assert find_config("rtmpose-m_8xb256-420e_coco-256x192.py").endswith("rtmpose-m_8xb256-420e_coco-256x192.py")
    assert find_config("rtmdet_m_640-8xb32_coco-person.py").endswith("rtmdet_m_640-8xb32_coco-person.py")
    with pytest.raises(FileNotFoundError, match="no_such_model.py"):
        find_config("no_such_model.py")


def test_topdown_box_keeps_centre_and_aspect():
    boxes = torch.tensor([[10.0, 20.0, 110.0, 60.0], [0.0, 0.0, 30.0, 200.0]])
    out = topdown_boxes(boxes, (192, 256))
    torch.testing.assert_close((out[:, :2] + out[:, 2:]) / 2, (boxes[:, :2] + boxes[:, 2:]) / 2)
    wh = out[:, 2:] - out[:, :2]
    torch.testing.assert_close(wh[:, 0] / wh[:, 1], torch.full((2,), 0.75))
    assert (wh >= 1.25 * (boxes[:, 2:] - boxes[:, :2]) - 1e-4).all()


def test_batched_crops_equal_mmposes_own_topdown_inference(pose_only):
    from mmpose.apis import inference_topdown

    rgb = data.astronaut()
    boxes = np.array([[60, 20, 420, 512], [100, 50, 300, 400], [300, 300, 500, 420]], np.float32)
    frame_of = torch.tensor([0, 0, 1])
    frames = torch.from_numpy(np.stack([rgb, rgb[::-1].copy()])).permute(0, 3, 1, 2)
    kp, sc = pose_only.keypoints(frames, torch.from_numpy(boxes), frame_of)
    assert kp.shape == (3, 17, 2) and sc.shape == (3, 17)
    for i, f in enumerate(frame_of.tolist()):
        bgr = frames[f].permute(1, 2, 0).numpy()[..., ::-1].copy()  # mmpose reads images as BGR
        ref = inference_topdown(pose_only.model, bgr, bboxes=boxes[i: i + 1], bbox_format="xyxy")[0].pred_instances
        # the same crop (roi_align for cv2.warpAffine) and the same model: the same arg-max bins,
        # but for a rare tie that the crops' rounding tips (random weights give flat outputs)
        same = np.linalg.norm(kp[i] - ref.keypoints[0], axis=-1) <= 0.5
        assert same.mean() >= 0.9, (i, same)
        np.testing.assert_allclose(sc[i][same], ref.keypoint_scores[0][same], atol=0.1)


def test_crops_equal_mmposes_topdown_affine(pose_only):
    from mmcv.transforms import Compose
    from mmpose.apis.inference import dataset_meta_from_config  # noqa: F401  (registers transforms)
    from mmpose.structures.bbox import bbox_xyxy2cs

    from corrkin.pose.mmpose import crop

    rgb = data.astronaut()
    box = np.array([[100, 50, 300, 400]], np.float32)
    ours = crop(torch.from_numpy(rgb).permute(2, 0, 1)[None], torch.tensor([0]),
                topdown_boxes(torch.from_numpy(box), (192, 256)), (192, 256))[0]
    centre, scale = bbox_xyxy2cs(box, padding=1.25)
    pipeline = Compose([dict(type="mmpose.TopdownAffine", input_size=(192, 256))])
    out = pipeline(dict(img=rgb.copy(), bbox=box, bbox_center=centre, bbox_scale=scale))
    ref = torch.from_numpy(out["img"]).permute(2, 0, 1).float()
    diff = (ours - ref).abs()
    assert diff.mean() < 1.0 and torch.quantile(diff.flatten(), 0.99) < 8, (diff.mean(), diff.max())


def test_batched_detection_equals_mmdets_own_inference(with_detector):
    from mmdet.apis import inference_detector
    from mmengine.registry import DefaultScope

    rgb = data.astronaut()[:, :400].copy()  # not square: resize and pad as mmdet's pipeline does
    boxes, scores = with_detector.detect(torch.from_numpy(rgb).permute(2, 0, 1)[None])
    with DefaultScope.overwrite_default_scope("mmdet"):
        ref = inference_detector(with_detector.detector, rgb[..., ::-1].copy()).pred_instances
    # random weights score many boxes alike: ours must be among mmdet's, with the top scores.
    # mmdet clips boxes to the padded input, which reaches past a narrow image; ours stop at
    # the image's edge
    np.testing.assert_allclose(scores[0].numpy(), ref.scores.sort(descending=True).values[:3].numpy(), atol=1e-4)
    ref_boxes = ref.bboxes.clone()
    ref_boxes[:, 0::2] = ref_boxes[:, 0::2].clamp(0, rgb.shape[1])
    ref_boxes[:, 1::2] = ref_boxes[:, 1::2].clamp(0, rgb.shape[0])
    gap = (boxes[0][:, None] - ref_boxes[None]).abs().amax(-1).amin(1)
    assert (gap < 0.05).all(), gap


def test_video_gives_t_by_people_by_17_in_image_coordinates(with_detector, tmp_path):
    from corrkin.io.video import probe, read_video, write_video

    rgb = data.astronaut()
    write_video(tmp_path / "still.mp4", np.repeat(rgb[None], 5, 0), 25)
    info = probe(tmp_path / "still.mp4")
    people = with_detector(tmp_path / "still.mp4", info, 1,
                           lambda: (c.frames for c in read_video(tmp_path / "still.mp4", chunk_frames=2)))
    assert people.keypoints.shape == (5, 3, 17, 2) and people.scores.shape == (5, 3, 17)
    assert people.valid.all() and np.isfinite(people.keypoints).all()
    # every keypoint lies in its person's top-down crop (a pose model's output cannot leave it)
    for f in range(5):
        region = topdown_boxes(torch.from_numpy(people.boxes[f]).float(), (192, 256)).numpy()
        k = people.keypoints[f]
        assert ((k >= region[:, None, :2] - 1) & (k <= region[:, None, 2:] + 1)).all()


def test_corrkin_run_with_pose_mmpose_writes_keypoints(tmp_path):
    import csv

    from corrkin.commands.run import run_video
    from corrkin.io.keypoints import load_clip
    from corrkin.synth import SwingSpec
    from corrkin.synth_video import write_rendered
    from tests.helpers.config import compose_config

    videos, out = tmp_path / "videos", tmp_path / "out"
    write_rendered(videos, SwingSpec(fps=25, duration_s=1.2, swing_at_s=0.6), seed=4, name="clip")
    (videos / "clip.npz").unlink()
    run_video(compose_config("run", [f"input={videos}", f"output={out}", "pose=mmpose", "pose.checkpoint=null",
                       "pose.detector_checkpoint=null", "pose.bbox_thr=0.0", "pose.max_people=2",
                       "plots=false", "progress=false"]))
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert [r["clip"] for r in rows] == ["clip"]  # analysed, or failed with a reason: random weights
    clip = load_clip(out / "clip" / "keypoints.npz")
    assert clip.keypoints.shape == (30, 13, 2) and clip.fps == 25.0 and np.isfinite(clip.keypoints).all()
    assert (clip.keypoints >= -200).all() and (clip.keypoints <= 900).all()  # image coordinates
