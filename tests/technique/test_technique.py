"""The technique model on CPU with tiny models built from config: data, loss, LoRA, resume."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from corrkin.cli import main as corrkin
from corrkin.io.keypoints import load_clip, save_clip
from corrkin.technique.data import MIRROR, SwingData, load_swings, mirror, window
from corrkin.technique.model import SwingDenoiser
from corrkin.technique.training import (
    add_lora,
    chain_lags,
    denoising_loss,
    noise_scheduler,
    sample_swings,
    set_stats,
    to_clip,
)
from tests.helpers.config import compose_config
from tests.helpers.data import analysed_shot_library

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from train.train_technique import CONFIG_DIR, train  # noqa: E402

TINY = ["model.dim=16", "model.layers=1", "model.heads=2", "model.ff_mult=2", "train.batch_size=4",
        "validation.samples=2", "validation.inference_steps=3", "train.warmup_steps=0"]


def tech_cfg(overrides):
    return compose_config("technique", overrides, CONFIG_DIR)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("tech")
    return root, analysed_shot_library(root, per_group=2, seed=4)


def tiny_model(**kw) -> SwingDenoiser:
    torch.manual_seed(0)
    return SwingDenoiser(frames=12, channels=28, prefix_frames=3, dim=16, layers=1, heads=2, ff_mult=2, shots=2,
                         batters=2, shot_names=("drive", "pull"), batter_names=("a", "b"), **kw)


def batch(n=6, frames=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, frames, 28, generator=g)
    return {"sample": x, "shot": torch.randint(0, 3, (n,), generator=g),
            "batter": torch.randint(0, 3, (n,), generator=g), "prefix": x[:, :3]}


def test_window_resamples_like_numpy_and_fills_gaps():
    fps, t = 25.0, np.arange(50)
    pos = np.stack([np.stack([np.sin(t / 7 + j), np.cos(t / 5 + j)], -1) for j in range(14)], 1)
    pos[10:14, 3] = np.nan
    out = window(pos, fps, peak=30, before_s=0.4, after_s=0.2, frames=16)
    grid = 30 / fps + np.linspace(-0.4, 0.2, 16)
    np.testing.assert_allclose(out[:, 0, 0], np.interp(grid, t / fps, pos[:, 0, 0]))
    assert np.isfinite(out).all()


def test_mirror_swaps_sides_and_twice_is_identity():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(5, 14, 2))
    m = mirror(s)
    assert np.allclose(m[:, 0, 0], -s[:, MIRROR[0], 0]) and MIRROR[0] == 1  # l_ankle <- r_ankle
    np.testing.assert_array_equal(mirror(m), s)


def test_swings_from_an_analysis_with_labels(library):
    root, manifest = library
    from corrkin.library.alignment import read_labels

    data = load_swings(root / "res", frames=16, labels=read_labels(manifest))
    assert data.swings.shape == (8, 16, 14, 2) and set(data.batters) == {"batter_a", "batter_b"}
    ds = SwingData(data, ["drive", "pull"], ["batter_a"], prefix_frames=4)
    item = ds[0]
    assert item["sample"].shape == (16, 28) and torch.equal(item["prefix"], item["sample"][:4])
    assert set(ds.batter.tolist()) == {0, 1}  # batter_b is not a known label: "none"


def test_unreliable_clips_can_be_left_out(library, tmp_path):
    import json
    import shutil

    root, _ = library
    res = tmp_path / "res"
    shutil.copytree(root / "res", res)
    victim = sorted(res.rglob("result.json"))[0]
    rec = json.loads(victim.read_text())
    rec["quality"] |= {"reliable": False, "reasons": ["the batter lost for 400 ms in the swing window"]}
    victim.write_text(json.dumps(rec))
    every = load_swings(res, frames=16)
    good = load_swings(res, frames=16, min_quality="reliable")
    assert set(every.clips) - set(good.clips) == {rec["clip"]} and len(good) == len(every) - 1


def test_a_few_steps_lower_the_loss_on_a_fixed_batch():
    model, sched, b = tiny_model(), noise_scheduler(), batch()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)

    def fixed_loss():
        with torch.no_grad():
            return denoising_loss(model, sched, b, 0.0, 0.0, torch.Generator().manual_seed(1)).item()

    before = fixed_loss()
    for _ in range(40):
        loss = denoising_loss(model, sched, b, 0.1, 0.1, torch.Generator().manual_seed(1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert fixed_loss() < 0.8 * before


def test_only_lora_parameters_train_and_the_adapter_reloads_exactly(tmp_path):
    base = tiny_model()
    with torch.no_grad():  # as if trained: the zero-initialised gates and output open
        for p in base.parameters():
            p.add_(0.2 * torch.randn_like(p))
    set_stats(base, torch.randn(10, 12, 14, 2) * 2 + 1)
    base.save_pretrained(tmp_path / "base")
    frozen = {k: v.clone() for k, v in base.state_dict().items()}
    params = add_lora(base, rank=4, alpha=12.0)
    assert params and all("lora_" in n for n, p in base.named_parameters() if p.requires_grad)
    opt = torch.optim.AdamW(params, lr=1e-2)
    for k in range(5):
        loss = denoising_loss(base, noise_scheduler(), batch(seed=k), generator=torch.Generator().manual_seed(k))
        opt.zero_grad()
        loss.backward()
        opt.step()
    state = base.state_dict()
    for k, v in frozen.items():  # the base weights did not move (peft renames them base_layer)
        key = k if k in state else k.replace(".weight", ".base_layer.weight").replace(".bias", ".base_layer.bias")
        assert torch.equal(state[key], v), k
    base.save_lora_adapter(tmp_path / "lora")
    from safetensors import safe_open

    with safe_open(tmp_path / "lora" / "pytorch_lora_weights.safetensors", "pt") as f:
        meta = json.loads(f.metadata()["lora_adapter_metadata"])
    assert meta["r"] == 4 and meta["lora_alpha"] == 12.0  # rank and alpha travel with the adapter
    fresh = SwingDenoiser.from_pretrained(tmp_path / "base")
    fresh.load_lora_adapter(tmp_path / "lora", prefix=None, weight_name="pytorch_lora_weights.safetensors")
    b = batch(seed=9)
    args = (b["sample"], torch.full((6,), 300), b["shot"], b["batter"], b["prefix"])
    base.eval(), fresh.eval()
    with torch.no_grad():
        out, again = base(*args).sample, fresh(*args).sample
        plain = SwingDenoiser.from_pretrained(tmp_path / "base")(*args).sample
    assert torch.equal(out, again)
    assert not torch.allclose(out, plain)  # and the adapter does something


def test_resume_from_a_checkpoint_continues_bit_identically(library, tmp_path):
    root, manifest = library
    common = [f"data={root / 'res'}", f"labels={manifest}", "window.frames=12", "window.prefix_frames=3", *TINY,
              "train.steps=6", "train.checkpoint_every=100"]
    straight = train(tech_cfg([*common, f"output={tmp_path / 'a'}"]))
    train(tech_cfg([*common, f"output={tmp_path / 'b'}", "train.stop_at=3"]))
    resumed = train(tech_cfg([*common, f"output={tmp_path / 'b'}", "train.resume=latest"]))
    assert resumed["steps"] == 6 and resumed["losses"] == straight["losses"][3:]
    a = SwingDenoiser.from_pretrained(tmp_path / "a" / "model").state_dict()
    b = SwingDenoiser.from_pretrained(tmp_path / "b" / "model").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_lora_run_saves_the_adapter_and_keeps_checkpoints_to_the_limit(library, tmp_path):
    root, manifest = library
    common = [f"data={root / 'res'}", f"labels={manifest}", "window.frames=12", "window.prefix_frames=3", *TINY]
    train(tech_cfg([*common, f"output={tmp_path / 'base'}", "train.steps=4", "train.checkpoint_every=100"]))
    out = train(tech_cfg([*common, f"output={tmp_path / 'lora'}", "mode=lora", f"base_model={tmp_path / 'base'}",
                          "lora.batter=batter_b", "train.steps=6", "train.checkpoint_every=2",
                          "train.checkpoints_total_limit=2"]))
    assert out["steps"] == 6 and (tmp_path / "lora" / "lora" / "pytorch_lora_weights.safetensors").is_file()
    assert sorted(p.name for p in (tmp_path / "lora" / "checkpoints").iterdir()) == ["step-4", "step-6"]
    assert json.loads((tmp_path / "lora" / "validation.json").read_text())["groups"][0]["batter"] == "batter_b"
    with pytest.raises(ValueError, match="no clips of that batter"):
        train(tech_cfg([*common, f"output={tmp_path / 'x'}", "mode=lora", f"base_model={tmp_path / 'base'}",
                        "lora.batter=nobody", "train.steps=1"]))


def test_samples_are_corrkin_clips_the_analysis_reads(tmp_path):
    model = tiny_model().eval()
    swings = sample_swings(model, 3, shot=1, batter=2, prefix=torch.zeros(3, 14, 2), guidance=2.0, steps=4,
                           generator=torch.Generator().manual_seed(0))
    assert swings.shape == (3, 12, 14, 2) and torch.isfinite(swings).all()
    clip = to_clip(swings[0].numpy(), 25.0, "s0")
    save_clip(tmp_path / "s0.npz", clip)
    back = load_clip(tmp_path / "s0.npz")
    np.testing.assert_allclose(back.keypoints, clip.keypoints)
    lags, paths = chain_lags(swings.numpy(), 25.0, ("pelvis", "l_shoulder", "bat"))
    assert lags.shape == (3, 2) and len(paths) == 3


def test_the_training_config_composes_and_refuses_typos():
    cfg = tech_cfg(["data=a", "output=b"])
    assert cfg.lora.alpha == 8.0 and cfg.mode == "base"
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException):
        tech_cfg(["data=a", "output=b", "lora.rnak=4"])


def test_corrkin_sample_writes_keypoint_files_from_base_and_lora(library, tmp_path):
    root, manifest = library
    common = [f"data={root / 'res'}", f"labels={manifest}", "window.frames=12", "window.prefix_frames=3", *TINY]
    train(tech_cfg([*common, f"output={tmp_path / 'base'}", "train.steps=3", "train.checkpoint_every=100"]))
    train(tech_cfg([*common, f"output={tmp_path / 'lora'}", "mode=lora", f"base_model={tmp_path / 'base'}",
                    "lora.batter=batter_a", "train.steps=2", "train.checkpoint_every=100"]))
    out = tmp_path / "samples"
    stance = next((root / "res").glob("pull_*"))
    assert corrkin(["sample", f"model={tmp_path / 'base'}", f"lora={tmp_path / 'lora'}", "shot=pull",
                    "batter=batter_a", "n=3", "steps=4", f"stance={stance}", f"output={out}"]) == 0
    info = json.loads((out / "samples.json").read_text())
    assert len(info["samples"]) == 3 and info["fps"] == pytest.approx(11 / 1.24)
    clip = load_clip(out / info["samples"][0]["file"])
    assert clip.keypoints.shape == (12, 13, 2) and np.isfinite(clip.keypoints).all()
    from corrkin.commands.sample import run_sample
    from corrkin.technique.config import SampleConfig
    from train.evaluate_technique import evaluate

    report = evaluate(str(root / "res"), str(tmp_path / "base"), str(tmp_path / "lora"), shot="pull", samples=3)
    assert report["real"]["clips"] == 8 and len(report["base + LoRA"]["lag_wasserstein"]) == 4
    assert 0 <= report["base"]["path_agreement"] <= 1

    with pytest.raises(ValueError, match="shot 'hook' is not one the model knows"):
        run_sample(SampleConfig(model=str(tmp_path / "base"), output=str(out), shot="hook"))
