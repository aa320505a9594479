"""Schemas of ``corrkin/configs/technique.yaml`` (registered with the other configs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from omegaconf import MISSING

from corrkin.schema import Choice, MinQuality, choice


class Mode(Choice):
    """What ``train/train_technique.py`` trains: the base model, or a batter's LoRA on it."""

    base = "base"
    lora = "lora"


class Precision(Choice):
    no = "no"
    fp16 = "fp16"
    bf16 = "bf16"


@dataclass
class SwingWindow:
    """Each swing: ``frames`` frames from ``before_s`` before to ``after_s`` after peak bat speed."""

    frames: int = 32  # frames per swing
    before_s: float = 0.8  # from 0.8 s before peak bat speed
    after_s: float = 0.44  # to 0.44 s after
    prefix_frames: int = 4  # the stance: the first frames, given as conditioning


@dataclass
class DenoiserSettings:
    """The denoiser (mode=base; a LoRA takes its base's)."""

    dim: int = 128
    layers: int = 4
    heads: int = 4
    ff_mult: int = 4


@dataclass
class LoraSettings:
    rank: int = 8
    alpha: float = 8.0  # the update is (alpha / rank) B A; both saved in the adapter's metadata
    dropout: float = 0.0
    batter: Optional[str] = None  # train on this batter's clips only


@dataclass
class TrainSettings:
    steps: int = 3000
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_schedule: str = "cosine"  # any diffusers.optimization.get_scheduler name
    warmup_steps: int = 100
    grad_accum: int = 1
    max_grad_norm: float = 1.0
    mixed_precision: Precision = Precision.no
    seed: int = 0
    cond_dropout: float = 0.1  # labels dropped for classifier-free guidance
    prefix_dropout: float = 0.2  # stance dropped
    train_timesteps: int = 1000
    checkpoint_every: int = 500
    checkpoints_total_limit: int = 3
    resume: Optional[str] = None  # latest | a checkpoint folder
    stop_at: Optional[int] = None  # stop after this step with a checkpoint (time-boxed jobs); resume=latest goes on
    log_every: int = 50

    def __post_init__(self) -> None:
        self.mixed_precision = choice(Precision, "train.mixed_precision", self.mixed_precision)


@dataclass
class ValidationSettings:
    every: int = 0  # steps between validation passes (0: only at the end)
    samples: int = 16
    guidance: float = 2.0
    inference_steps: int = 50


@dataclass
class TechniqueConfig:
    """``train/train_technique.py``: base training (``mode=base``) or a batter's LoRA (``mode=lora``)."""

    data: str = MISSING  # corrkin analyse / library output (result.json + series.npz per clip)
    output: str = MISSING  # model/ (base) or lora/ (adapter), checkpoints/, train_log.jsonl, validation.json
    labels: Optional[str] = None  # CSV with clip (or path), batter, shot; else from result.json
    mirror_batters: list[str] = field(default_factory=list)  # left-handed: mirrored to play right-handed
    exclude_batters: list[str] = field(default_factory=list)  # left out (held-out clips for evaluation)
    min_quality: MinQuality = MinQuality.any  # reliable: leave out clips whose quality says reliable: false
    mode: Mode = Mode.base  # base: the whole model on every clip | lora: a batter's adapter on a frozen base
    base_model: Optional[str] = None  # mode=lora: the base run's output folder (its model/ sub-folder)
    device: str = "cpu"  # cpu | cuda (accelerate launch for several GPUs)
    window: SwingWindow = field(default_factory=SwingWindow)
    model: DenoiserSettings = field(default_factory=DenoiserSettings)
    lora: LoraSettings = field(default_factory=LoraSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)

    def __post_init__(self) -> None:
        self.min_quality = choice(MinQuality, "min_quality", self.min_quality)
        self.mode = choice(Mode, "mode", self.mode)


@dataclass
class SampleConfig:
    """``corrkin sample``: swings from a technique model as keypoint files."""

    model: str = MISSING  # a base run's folder (train/train_technique.py mode=base), or its model/ folder
    lora: Optional[str] = None  # a batter's LoRA run (mode=lora), or its lora/ folder
    output: str = MISSING  # <shot>_<k>.npz keypoint files and samples.json
    shot: Optional[str] = None  # a shot label the model knows; null: unconditional
    batter: Optional[str] = None
    stance: Optional[str] = None  # an analysed clip folder: start from its stance (first frames)
    n: int = 16  # swings drawn
    guidance: float = 2.0  # classifier-free guidance scale (1: conditional only)
    steps: int = 50  # DDIM steps
    seed: int = 0
    device: str = "cpu"


def register(store) -> None:
    """These schemas in Hydra's ConfigStore ``store`` (``corrkin.config.register_configs``)."""
    store.store(name="technique_schema", node=TechniqueConfig)
    store.store(name="sample_schema", node=SampleConfig)
