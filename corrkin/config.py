"""Structured config schemas, registered in Hydra's ConfigStore so a typo fails at composition."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from corrkin.bat.settings import SEEN_SCORE, BatSettings, BatTuning  # noqa: F401 (BatTuning: re-exported)
from corrkin.schema import Choice, MinQuality, choice, fraction, need
from corrkin.skeleton import NODES as NODE_NAMES


class Test(Choice):
    """How a coupling (an edge) is tested: ``shift`` circular-shift surrogates, whose null holds
    for brief pulses (one swing cannot pass it: its p-value floor is about (2 L + 1) / n), with
    sub-frame timing and an order stated where the lag's 95 % interval excludes zero; ``acf``
    a Fisher-z test with the whole autocorrelation's effective sample size, which assumes
    stationary motion (on swing-like pulses it claims couplings in most clips); ``lag1`` the
    seed's Fisher test with the lag-1 effective sample size."""

    shift = "shift"
    acf = "acf"
    lag1 = "lag1"


class Signal(Choice):
    """What each node's series is: ``speed`` the speed of its pelvis-centred image path (the
    quantity the kinematic-sequence literature times: peak speeds); ``axis`` its velocity along
    the one in-plane swing axis (the seed's)."""

    speed = "speed"
    axis = "axis"


class PathLinks(Choice):
    """Which ordered pairs the path may use: ``anatomical`` only segments joined in the body
    (:data:`corrkin.skeleton.ADJACENT`: the kinematic sequence's route); ``any`` every pair (the
    seed's, where a longer detour through any correlated node always outweighs the chain)."""

    anatomical = "anatomical"
    any = "any"


class SwingPeak(Choice):
    """The swing's peak (impact): ``grip`` the bat tip's peak speed about the hands' midpoint
    (the bat's own turn, which peaks at impact and ignores the backlift's arm motion);
    ``pelvis`` its speed about the pelvis (the seed)."""

    grip = "grip"
    pelvis = "pelvis"


class PelvisSignal(Choice):
    """The pelvis's own series: ``ankles`` its motion over the mid-ankle; ``root`` zero (the seed)."""

    ankles = "ankles"
    root = "root"


class CameraView(Choice):
    """Where the camera stands: ``auto`` estimated per clip from the hips' width over the
    trunk's length (:func:`corrkin.analysis.biomech.camera_view`), or stated: ``square`` of the
    pitch, ``oblique``, ``along`` the pitch (behind the bowler or the keeper)."""

    auto = "auto"
    square = "square"
    oblique = "oblique"
    along = "along"


class TopHand(Choice):
    """The hand the bat's angle is measured from: ``auto`` the wrist further from the bat tip."""

    auto = "auto"
    left = "left"
    right = "right"


class Dtype(Choice):
    float16 = "float16"
    bfloat16 = "bfloat16"
    float32 = "float32"
    float64 = "float64"


class Calibration(Choice):
    """Metres per shoulder width from the bat's length, the batter's stature, or two image points."""

    bat = "bat"
    stature = "stature"
    points = "points"


class VideoFormat(Choice):
    mp4 = "mp4"  # H.264
    webm = "webm"  # VP9


class MarkerFormat(Choice):
    trc = "trc"  # OpenSim / Sports2D / Pose2Sim text markers
    c3d = "c3d"  # binary C3D (Mokka, Visual3D), through the c3d package (corrkin[c3d])


@dataclass
class WindowConfig:
    """A bat-centred time window: frames from ``before_s`` before to ``after_s`` after peak bat
    speed. ``null`` leaves that side unbounded, so the default is the whole clip."""

    before_s: Optional[float] = None
    after_s: Optional[float] = None

    def __post_init__(self) -> None:
        for side in ("before_s", "after_s"):
            v = getattr(self, side)
            need(v is None or v >= 0, f"analysis.window.{side}", v, "must be >= 0 seconds, or null")


@dataclass
class QualityConfig:
    """When a clip's results are to be trusted (``quality`` in ``result.json``): each threshold
    not met makes the clip ``reliable: false`` with the reason."""

    window_s: float = 0.5  # the swing window: this long either side of the peak bat speed
    min_core_coverage: float = 0.9  # shoulders, elbows, wrists, hips each seen in this share of it
    min_bat_coverage: float = 0.8  # the bat seen (score >= bat_score) in this share of it
    bat_score: float = SEEN_SCORE  # a frame's bat counts as seen from this (calibrated) score
    max_gap_s: float = 0.2  # the longest stretch of the swing window without the batter
    max_switches: int = 0  # identity switches of the batter's track (video)
    min_fps: float = 20.0  # below it, no timing is claimed to the precision of a swing
    min_window_share: float = 0.5  # the clip holds at least this share of the swing window (a clip cut short does not)

    def __post_init__(self) -> None:
        need(self.window_s > 0, "analysis.quality.window_s", self.window_s, "must be > 0 seconds")
        for key in ("min_core_coverage", "min_bat_coverage", "bat_score", "min_window_share"):
            fraction(f"analysis.quality.{key}", getattr(self, key))
        need(self.max_gap_s >= 0, "analysis.quality.max_gap_s", self.max_gap_s, "must be >= 0 seconds")
        need(self.max_switches >= 0, "analysis.quality.max_switches", self.max_switches, "must be >= 0")
        need(self.min_fps > 0, "analysis.quality.min_fps", self.min_fps, "must be > 0")


@dataclass
class UnitsConfig:
    """Real units (:mod:`corrkin.analysis.units`): metres per shoulder width from the bat's
    length (the longest bat seen in the clip), the batter's stature, or two image points a
    known distance apart."""

    calibration: Calibration = Calibration.bat
    bat_length_m: float = 0.85  # a full-size bat is 0.84-0.87 m (the Laws allow 0.965 m); the batter's own if known
    bat_length_sd_m: float = 0.03  # how well that length is known (0: measured)
    stature_m: Optional[float] = None  # the batter's standing height (calibration=stature)
    stature_sd_m: float = 0.02
    points_px: Optional[list[Any]] = None  # [[x, y], [x, y]] video pixels of two fixed points (calibration=points; a still camera)
    points_m: float = 1.22  # their distance: popping crease to stumps 1.22 m; stumps 0.711 m high
    points_sd_px: float = 2.0  # how well each point is placed, px
    sweet_spot_from_toe_m: float = 0.15  # the bat's sweet spot, up from the toe (its fundamental vibration node: ~0.15 m)

    def __post_init__(self) -> None:
        u = "analysis.units."
        self.calibration = choice(Calibration, u + "calibration", self.calibration)
        need(0.2 < self.bat_length_m < 1.5, u + "bat_length_m", self.bat_length_m, "must be 0.2-1.5 m")
        need(0 <= self.bat_length_sd_m < self.bat_length_m, u + "bat_length_sd_m", self.bat_length_sd_m,
              "must be >= 0 and below the length")
        need(0 <= self.sweet_spot_from_toe_m < 0.9 * self.bat_length_m, u + "sweet_spot_from_toe_m",
              self.sweet_spot_from_toe_m, "must be >= 0 and within the bat (below 0.9 of bat_length_m)")
        if self.calibration == "stature" or self.stature_m is not None:
            need(self.stature_m is not None and 0.8 < self.stature_m < 2.5, u + "stature_m", self.stature_m,
                  "must be the batter's height, 0.8-2.5 m (calibration=stature needs it)")
            need(0 <= self.stature_sd_m < self.stature_m, u + "stature_sd_m", self.stature_sd_m,
                  "must be >= 0 and below the stature")
        if self.calibration == "points" or self.points_px is not None:
            pts = self.points_px
            try:
                ok = (len(pts) == 2 and all(len(q) == 2 for q in pts)
                      and all(math.isfinite(float(v)) for q in pts for v in q) and list(pts[0]) != list(pts[1]))
            except (TypeError, ValueError):  # None, a number, a string: not two points
                ok = False
            need(ok, u + "points_px", pts, "must be two distinct image points [[x, y], [x, y]] "
                                            "(calibration=points needs them)")
            need(0 < self.points_m < 100, u + "points_m", self.points_m, "must be 0-100 m")
            need(0 <= self.points_sd_px < 100, u + "points_sd_px", self.points_sd_px, "must be 0-100 px")


@dataclass
class AnalysisConfig:
    """Every parameter of the correlated-kinetics analysis (see ``corrkin/configs/analysis``)."""

    name: str = "default"
    # Savitzky–Golay window: the odd number of frames nearest window_s * fps (0.2 s, the seed's,
    # moved brief, lopsided speed peaks 20 ms early on strokes filmed in 3-D; 0.1 s: 5-10 ms); at
    # 25-30 fps 0.1 s is 3 frames: no smoothing for the peaks, 5 frames for the correlations
    smooth_window_s: float = 0.10
    smooth_order: int = 2
    max_lag_s: float = 0.40  # lags searched: +-round(max_lag_s * fps) frames
    theta: float = 0.40  # least peak correlation for an edge
    alpha: float = 0.05  # significance level (on BH q-values when fdr is true)
    # shift: circular-shift surrogates (valid for brief pulses; one swing cannot show coupling);
    # acf: Fisher z with the whole autocorrelation (assumes stationary motion); lag1: the seed's test
    test: Test = Test.shift
    path_links: PathLinks = PathLinks.anatomical  # anatomical: the path follows joined segments; any: every pair
    signal: Signal = Signal.speed  # speed: each node's speed (pelvis-centred); axis: velocity along the swing axis (the seed)
    min_lag_frames: int = 0  # an edge i->j needs j to follow i by at least this many whole frames
    fdr: bool = True  # Benjamini–Hochberg over all tested pairs of a clip
    # bat-centred window: the downswing (peaks of the backlift and follow-through are not the sequence's)
    window: WindowConfig = field(default_factory=lambda: WindowConfig(before_s=0.6, after_s=0.2))
    pelvis_signal: PelvisSignal = PelvisSignal.ankles  # pelvis relative to mid-ankle; root: zero (the seed)
    swing_peak: SwingPeak = SwingPeak.grip  # the tip's peak speed about the hands (grip) or the pelvis (the seed)
    min_confidence: float = 0.1  # scores below this are gaps, filled by linear interpolation
    fill_gaps: bool = True
    # before smoothing: left/right swaps of the wrists, elbows, knees and ankles undone (least
    # motion, Viterbi), then confident glitches replaced by a Hampel filter (windowed median)
    robust: bool = True
    hampel_window_s: float = 0.12  # the Hampel filter's window, seconds (at least 3 frames)
    hampel_sigmas: float = 3.0  # a point further than this many robust sigmas from its window's median is a glitch
    min_valid_fraction: float = 0.5  # a shoulder or hip valid in fewer frames fails the clip
    sources: list[str] = field(default_factory=lambda: ["l_ankle", "r_ankle", "pelvis"])  # where paths start
    target: str = "bat"  # where they end
    top_hand: TopHand = TopHand.auto  # the hand used for the bat angle
    camera_view: CameraView = CameraView.auto  # along the pitch withholds the swing-plane figures; auto: estimated
    dtype: Dtype = Dtype.float32
    quality: QualityConfig = field(default_factory=QualityConfig)  # when a clip's results are trusted
    units: UnitsConfig = field(default_factory=UnitsConfig)  # real units (m, m/s, km/h) from one calibration

    def __post_init__(self) -> None:
        a = "analysis."
        self.test = choice(Test, a + "test", self.test)
        self.signal = choice(Signal, a + "signal", self.signal)
        self.path_links = choice(PathLinks, a + "path_links", self.path_links)
        self.pelvis_signal = choice(PelvisSignal, a + "pelvis_signal", self.pelvis_signal)
        self.swing_peak = choice(SwingPeak, a + "swing_peak", self.swing_peak)
        self.top_hand = choice(TopHand, a + "top_hand", self.top_hand)
        self.camera_view = choice(CameraView, a + "camera_view", self.camera_view)
        self.dtype = choice(Dtype, a + "dtype", self.dtype)
        self.validate()

    def validate(self) -> None:
        """Every setting within its range (raises ``ValueError`` naming the first that is not):
        run when the config is composed, so a bad value stops the command before any clip is
        read, and again by the engine (a config built in code may have been changed since)."""
        a = "analysis."
        need(self.smooth_window_s > 0, a + "smooth_window_s", self.smooth_window_s, "must be > 0 seconds")
        need(1 <= self.smooth_order <= 6, a + "smooth_order", self.smooth_order, "must be 1 to 6")
        need(0 < self.max_lag_s <= 5, a + "max_lag_s", self.max_lag_s,
              "must be > 0 and at most 5 seconds (a stroke's whole chain takes well under one)")
        need(0 <= self.theta < 1, a + "theta", self.theta, "a correlation: must be >= 0 and < 1")
        need(0 < self.alpha < 1, a + "alpha", self.alpha, "a significance level: must be > 0 and < 1")
        for key, kind in (("test", Test), ("signal", Signal), ("path_links", PathLinks),
                          ("pelvis_signal", PelvisSignal), ("swing_peak", SwingPeak), ("top_hand", TopHand),
                          ("camera_view", CameraView), ("dtype", Dtype)):
            choice(kind, a + key, getattr(self, key))  # a value set after construction
        need(self.min_lag_frames >= 0, a + "min_lag_frames", self.min_lag_frames, "must be >= 0")
        need(self.hampel_window_s > 0, a + "hampel_window_s", self.hampel_window_s, "must be > 0 seconds")
        need(self.hampel_sigmas > 0, a + "hampel_sigmas", self.hampel_sigmas, "must be > 0")
        fraction(a + "min_confidence", self.min_confidence)
        fraction(a + "min_valid_fraction", self.min_valid_fraction)
        unknown = [n for n in [*self.sources, self.target] if n not in NODE_NAMES]
        need(not unknown, a + "sources/target", unknown, f"unknown nodes; nodes are {list(NODE_NAMES)}")
        need(len(self.sources) > 0, a + "sources", list(self.sources), "name at least one node")
        need(self.target not in self.sources, a + "target", self.target, "must not be one of the sources")


@dataclass
class BatterConfig:
    """Which person is the batter, where a file or a pose model gives several.
    Both null: chosen from the evidence (bat in the hands, size, centrality) and followed."""

    box: Optional[list[float]] = None  # x1, y1, x2, y2 in the first frame with detections
    index: Optional[int] = None  # the detection's position in that frame


@dataclass
class AnalyseConfig:
    """``corrkin analyse``: keypoint files in, one result folder per clip out."""

    input: str = MISSING  # a keypoint file (.npz, mmpose .json) or a folder of them
    output: str = MISSING  # one folder per clip, plus summary.csv and metrics.csv
    recursive: bool = False  # also read the folder's sub-folders
    fps: Optional[float] = None  # overrides (or supplies) every clip's frame rate (required for seed / mmpose files)
    device: str = "cpu"  # cpu | cuda | cuda:1 ...
    plots: bool = True  # corrpath.png and kinematics.png per clip
    batch_size: int = 512  # clips analysed at once
    io_workers: int = 2  # processes reading and writing files (0: threads)
    threads: Optional[int] = None  # torch CPU threads; null: the cores the I/O workers leave (>= 1)
    progress: bool = True
    # CSV: clip (or path) and impact_s, the moment of impact in seconds into each file where known
    # (the ball's sound, a frame picked by hand): the events' reference instead of the peak bat speed
    impacts: Optional[str] = None
    batter: BatterConfig = field(default_factory=BatterConfig)  # files with several people (mmpose)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)

    def __post_init__(self) -> None:
        _runtime_checks(self)


def _runtime_checks(cfg) -> None:
    """The settings every batch command shares, each in its range."""
    for key in ("batch_size", "stride", "chunk_frames"):
        if hasattr(cfg, key):
            need(getattr(cfg, key) >= 1, key, getattr(cfg, key), "must be >= 1")
    if hasattr(cfg, "io_workers"):
        need(cfg.io_workers >= 0, "io_workers", cfg.io_workers, "must be >= 0")
    if getattr(cfg, "threads", None) is not None:
        need(cfg.threads >= 1, "threads", cfg.threads, "must be >= 1, or null")
    if getattr(cfg, "fps", None) is not None:
        need(0 < cfg.fps <= 10000, "fps", cfg.fps, "must be > 0 frames per second (and at most 10000)")
    if hasattr(cfg, "device"):
        need(cfg.device == "cpu" or cfg.device.startswith(("cuda", "mps")), "device", cfg.device,
              "must be cpu, cuda, cuda:<n> or mps")


@dataclass
class RunConfig:
    """``corrkin run``: videos in, keypoints, bat tip and the analysis out."""

    input: str = MISSING  # a video or a folder of videos (.mp4 .mov .mkv .avi .webm .m4v)
    output: str = MISSING  # per clip: keypoints.npz (bat tip included) and the analysis results
    fps: Optional[float] = None  # overrides the container's frame rate
    stride: int = 1  # keep every stride-th frame
    device: str = "cpu"
    plots: bool = True
    chunk_frames: int = 64  # frames decoded at a time (bounds memory on long clips)
    progress: bool = True
    pose: Any = MISSING  # a pose backend config with its _target_ (corrkin/configs/pose): mediapipe | yolo | mmpose | file
    impacts: Optional[str] = None  # CSV: clip (or path) and impact_s, as for corrkin analyse (time in the video)
    batter: BatterConfig = field(default_factory=BatterConfig)  # several people in the frame: who the batter is
    bat: BatSettings = field(default_factory=BatSettings)  # the bat-tip detector
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)

    def __post_init__(self) -> None:
        _runtime_checks(self)


@dataclass
class DemoConfig:
    """``corrkin demo``: make the built-in synthetic library and analyse it."""

    output: str = "demo_output"
    clips: int = 6  # synthetic keypoint clips with known chains, through corrkin analyse
    videos: int = 3  # rendered clips run through the whole video pipeline (pose=file, real bat detector)
    mediapipe: bool = True  # and one more with pose=mediapipe: nothing given but the video
    shot_library: int = 3  # clips per shot type and batter through corrkin library + align (0: none)
    seed: int = 0
    device: str = "cpu"
    plots: bool = True
    progress: bool = True
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)


@dataclass
class AlignWindow:
    """The stretch of each clip that is time-aligned: from ``before_s`` before to ``after_s``
    after its peak bat speed."""

    before_s: float = 1.0
    after_s: float = 0.6


@dataclass
class LinksConfig:
    """Coupling across a batter's swings (``links.csv``): per batter and shot, every pair's pooled
    lag and a test of coupling beyond co-timing against trial-shuffled swings."""

    min_swings: int = 3  # fewer swings of a batter's shot: no links
    max_lag_s: float = 0.2  # lags searched, +- seconds
    before_s: float = 0.8  # each swing's window around its impact, seconds before
    after_s: float = 0.4  # and after
    alpha: float = 0.05  # family-wise (Holm) over a group's pairs
    permutations: int = 4999  # shuffles of the swings in the null (p >= 1 / (permutations + 1))
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        need(self.min_swings >= 3, "links.min_swings", self.min_swings, "must be >= 3")
        need(0 < self.max_lag_s <= 1, "links.max_lag_s", self.max_lag_s, "must be > 0 and at most 1 second")
        need(self.before_s > 0 and self.after_s > 0, "links.before_s/after_s", [self.before_s, self.after_s],
              "must be > 0 seconds")
        need(0 < self.alpha < 1, "links.alpha", self.alpha, "a significance level: must be > 0 and < 1")
        need(self.permutations >= 99, "links.permutations", self.permutations, "must be >= 99")


@dataclass
class AlignConfig:
    """``corrkin align``: an analysis output folder in, alignment tables and figures out."""

    input: str = MISSING  # a corrkin analyse / run / library output folder
    output: str = MISSING  # tables (clips, edges/paths by shot and batter), templates.npz, figures
    labels: Optional[str] = None  # CSV with clip (or path), batter, shot; else from result.json
    reference: str = "medoid"  # medoid (least summed DTW cost to the others) | a clip name
    medoid_sample: Optional[int] = 256  # the medoid among this many clips at most (pairs grow as B^2)
    window: AlignWindow = field(default_factory=AlignWindow)
    radius_s: Optional[float] = None  # Sakoe-Chiba radius, s; null: 10 % of each pair's longer window
    procrustes_iters: int = 5  # generalised Procrustes rounds for the template swing per shot type
    formats: list[str] = field(default_factory=lambda: ["csv", "parquet"])
    plots: bool = True
    device: str = "cpu"
    min_quality: MinQuality = MinQuality.any  # reliable: leave out clips whose quality says reliable: false
    only: Optional[list[str]] = None  # the result folders (relative to input) to align; null: every one there
    links: LinksConfig = field(default_factory=LinksConfig)  # coupling across a batter's swings (links.csv)
    progress: bool = True  # a bar over the clips read (on a terminal)

    def __post_init__(self) -> None:
        self.min_quality = choice(MinQuality, "min_quality", self.min_quality)


@dataclass
class LibraryConfig:
    """``corrkin library``: a manifest or folder in, resumable per-clip results and the library
    summary out (``torchrun`` shards it over processes)."""

    input: str = MISSING  # manifest CSV (path, batter, shot[, fps, start_s, end_s, impact_s]; paths relative to it) or a folder
    output: str = MISSING  # clips/<key>/ (result.json, series.npz, done.json), quarantine/, library.csv|parquet, align/
    fps: Optional[float] = None  # for files that carry none and rows that give none
    device: str = "cpu"  # cuda: each torchrun rank takes cuda:LOCAL_RANK
    batch_size: int = 256  # clips analysed at once
    threads: Optional[int] = None  # torch CPU threads per process; null: all cores
    plots: bool = False  # corrpath.png per clip (thousands of figures cost more than the analysis)
    progress: bool = True  # a progress bar (clips/s) on rank 0
    retry_failed: bool = False  # analyse quarantined clips again
    formats: list[str] = field(default_factory=lambda: ["csv", "parquet"])
    align: bool = True  # and the alignment tables over the finished clips (corrkin align)
    alignment: AlignConfig = field(default_factory=lambda: AlignConfig(input="", output=""))
    # videos in the manifest go through the video front end (corrkin run's stages)
    pose: Any = None  # a pose backend config with its _target_ (corrkin/configs/pose)
    stride: int = 1  # videos: keep every stride-th frame
    chunk_frames: int = 64  # videos: frames decoded at a time
    batter: BatterConfig = field(default_factory=BatterConfig)
    bat: BatSettings = field(default_factory=BatSettings)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)

    def __post_init__(self) -> None:
        _runtime_checks(self)


@dataclass
class ReportConfig:
    """``corrkin report``: an output folder in, a self-contained HTML page out."""

    input: str = MISSING  # a corrkin analyse / run / library output folder (result.json + series.npz at any depth)
    output: Optional[str] = None  # default: <input>/report (index.html + media/)
    videos: Optional[str] = None  # a folder with the source videos, <clip>.mp4, shown beside the skeletons
    align: Optional[str] = None  # alignment tables (default: <input>/align when there)
    composite: int = 6  # clips in the synchronised composite (2 x 3)
    progress: bool = True  # a bar over the clips (on a terminal)


@dataclass
class RenderConfig:
    """``corrkin render``: skeleton videos and OpenPose pictures of keypoint files."""

    input: str = MISSING  # a keypoint file (.npz, mmpose .json) or a folder of them
    output: str = MISSING  # <clip>_skeleton.mp4, <clip>.gif, <clip>_openpose/<frame>.png
    video: Optional[str] = None  # the source video: draw over it (one clip)
    fps: Optional[float] = None  # for files without a frame rate
    size: list[int] = field(default_factory=lambda: [480, 480])  # the normalised view, W x H (the batter scaled by the trunk to fit, the bat's path included)
    format: VideoFormat = VideoFormat.mp4
    gif: bool = True
    openpose: bool = False  # and OpenPose's 18-point body on black per frame, PNGs
    bat: bool = True  # the bat as an extra stick in the OpenPose pictures
    progress: bool = True  # a bar over the clips (on a terminal)

    def __post_init__(self) -> None:
        self.format = choice(VideoFormat, "format", self.format)


@dataclass
class ExportConfig:
    """``corrkin export``: each clip's keypoints as an OpenSim ``.trc`` (Sports2D's 2-D layout)."""

    # a corrkin analyse / run / library output folder (a result.json per clip), or keypoint files
    # (.npz, mmpose .json, .trc, OpenPose frame folders) or a folder of them
    input: str = MISSING
    output: str = MISSING  # <clip>.trc per clip: 13 joints and BatTip; Units m where a result's calibration allows, else px
    fps: Optional[float] = None  # keypoint files without a frame rate (seed, mmpose, OpenPose); a result carries its own
    recursive: bool = False  # keypoint files: also read the folder's sub-folders
    min_score: float = 0.0  # a point scored below this (or 0) is written as missing (a TRC holds no scores)
    format: MarkerFormat = MarkerFormat.trc  # trc | c3d (the c3d package: pip install 'corrkin[c3d]'); metres as mm in C3D
    batter: BatterConfig = field(default_factory=BatterConfig)  # files with several people (mmpose, OpenPose)
    progress: bool = True  # a bar over the clips (on a terminal)

    def __post_init__(self) -> None:
        _runtime_checks(self)
        fraction("min_score", self.min_score)
        self.format = choice(MarkerFormat, "format", self.format)


def as_object(node):
    """A composed config node as its dataclass (a dataclass given directly is returned as is)."""
    return OmegaConf.to_object(node) if OmegaConf.is_config(node) else node


def report_dir(input: str, output: str | None) -> str:
    """Where ``corrkin report`` writes its page (and Hydra its run record): ``output``, else
    ``<input>/report``."""
    return str(output) if output else f"{input}/report"


def register_configs() -> None:
    if not OmegaConf.has_resolver("corrkin.report_dir"):  # hydra_dirs/input.yaml's run folder
        OmegaConf.register_new_resolver("corrkin.report_dir", report_dir)
    cs = ConfigStore.instance()
    cs.store(name="analyse_schema", node=AnalyseConfig)
    cs.store(name="demo_schema", node=DemoConfig)
    cs.store(name="run_schema", node=RunConfig)
    cs.store(name="align_schema", node=AlignConfig)
    cs.store(name="library_schema", node=LibraryConfig)
    cs.store(name="report_schema", node=ReportConfig)
    cs.store(name="render_schema", node=RenderConfig)
    cs.store(name="export_schema", node=ExportConfig)
    from corrkin.technique.config import register as register_technique

    register_technique(cs)
    cs.store(group="analysis", name="schema", node=AnalysisConfig)


def described(schema: type, prefix: str = "") -> list[tuple[str, str]]:
    """``(key, meaning)`` for every setting of a schema dataclass and of the schemas inside it
    (``analysis.quality.min_fps``), in the order they are written: each meaning is the comment
    the schema gives it (after the field, or in the lines just above it), '' where none."""
    import dataclasses
    import inspect
    import re
    import typing

    notes: dict[str, str] = {}
    above: list[str] = []
    for line in inspect.getsource(schema).splitlines():
        text = line.strip()
        if text.startswith("#"):
            above.append(text.lstrip("# ").strip())
            continue
        field_line = re.match(r"(\w+)\s*:\s*[^=#]+(?:=.*?)?(?:\s+#\s*(.*))?$", text)
        if field_line and not text.startswith(("def ", "class ", "@", "return", "if ")):
            notes[field_line.group(1)] = field_line.group(2) or " ".join(above)
        above = []
    hints = typing.get_type_hints(schema)
    out: list[tuple[str, str]] = []
    for f in dataclasses.fields(schema):
        kind = hints.get(f.name)
        if dataclasses.is_dataclass(kind):
            out += described(kind, f"{prefix}{f.name}.")
        else:
            out.append((f"{prefix}{f.name}", notes.get(f.name, "")))
    return out
