"""The bat-tip detector's settings: :class:`BatSettings` (Hydra's ``bat:``) and its tuning,
:class:`BatTuning` (``bat.tuning.*``), every number the detector decides by, named and with its
unit. Torch-free, so the config schema can import it.

Three questions, three values: is a frame's bat seen (its calibrated presence at least
:data:`SEEN_SCORE`, which the detector and ``analysis.quality.bat_score`` both read); is a run
along a ray enough of a bar to count as a bat at all, whatever its presence
(``bat.min_confidence``, in unit runs); which samples of any joint are gaps to interpolate
(``analysis.min_confidence``, a pose score).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from corrkin.schema import need

SEEN_SCORE = 0.5  # a frame's bat counts as seen from this calibrated presence


@dataclass
class BatTuning:
    """The detector's tuning, set on the clips of ``benchmarks/bat.py`` (``sw``: shoulder widths,
    the person's size as :func:`corrkin.bat.body.person_size` measures it; ``tau``: ``bat.tau``). A plain
    dataclass so that ``bat.tuning.x=...`` overrides compose (OmegaConf makes a frozen one's
    node read-only); the detector reads an immutable copy (:func:`frozen`)."""

    # the person's size and body
    trunk_floor: float = 0.55  # the size is at least this share of the trunk's length (hips' to shoulders' centre)
    least_size_px: float = 4.0  # ... and at least this many pixels
    head_reach: float = 0.45  # the head's capsule runs this share of the trunk above the shoulders' centre
    head_margin: float = 0.25  # ... with this many sw more radius than a limb's
    parallel_deg: float = 30.0  # a limb masks the rays within this many degrees of its axis
    # evidence along a ray
    side_sw: float = 0.2  # the side samples lie this many sw to either side of a ray point ...
    side_least_px: float = 2.0  # ... and at least this many work pixels
    level_lag_sw: float = 0.1  # the bar's own level is compared over this many sw along the ray
    texture: float = 3.0  # over the background the floor is this times the frame's mean ridge contrast (if above tau)
    gain_cap: float = 4.0  # a point's gain is at most this many tau: a bar is evidenced by its length
    beyond_gain: float = -1e3  # a point's gain past the longest bat (grey levels): no run reaches there
    held_sw: float = 0.35  # a run starts within this many sw of the hands ...
    held_slack_sw: float = 0.15  # ... or of where the ray leaves the body, give or take this many sw
    others_gain: float = -0.5  # per point on another person's body, tau: a bat does not run through them
    cut_reach_sw: float = 0.1  # another person's body this many sw past a run's end: its tip may be behind them
    unit_sw: float = 0.5  # a unit run is this many sw at twice tau: the scale of presence and min_confidence
    # the colour pass: a point is the bat's colour within colour_z spreads (each at least colour_floor
    # levels), its sides are not; such a point gains colour_gain tau, any other loses colour_loss tau
    colour_outer: float = 0.5  # a run's colour is its mean beyond this share of its length
    colour_points: int = 3  # ... over at least this many points
    colour_z: float = 4.0  # spreads: a point within this of the bat's colour has it
    colour_floor: float = 6.0  # grey levels: the least spread of the bat's colour
    colour_gain: float = 2.0  # tau, per point of the bat's colour whose sides are not
    colour_loss: float = 1.0  # tau, per other point
    colour_min: int = 3  # frames that agree on a colour before it is learned
    colour_from: float = 0.15  # the colour is learned from the frames where the track's presence is at least this
    spread_deg: float = 20.0  # the frames a colour is learned from span at least this many degrees ...
    colour_share: float = 0.25  # ... or are at least this share of the clip's frames
    grip_cap: float = 1.0  # tau: a point's gain in grip_score, so a bar must run on from the hands
    grip_others_gain: float = -1.0  # tau, per point on another person's body in grip_score
    # presence: a logistic in log2 of the track's score over the frame's null
    presence_mid: float = 2.5  # the bat's run scores this many times the best elsewhere: presence 0.5
    presence_slope: float = 2.2  # per doubling of that ratio (2.5x: 0.5, 5x: 0.9, 1x: 0.05)
    null_deg: float = 30.0  # the null: directions at least this many degrees from the track's
    null_pad: float = 0.25  # unit runs added to both scores, so that nothing against nothing is a ratio of 1
    runs_on: float = 0.97  # a bar reaching this share of max_length runs on past any bat: the background
    seen_min_sw: float = 0.5  # the shortest run, sw, that counts as the bat seen
    # the track
    clear_presence: float = 0.9  # a sighting at least this sure tells the bat's length ...
    clear_frames: int = 5  # ... from at least this many such frames
    length_slack: float = 1.2  # runs are then bounded by the first length cap at least this times that length
    local_frames: int = 4  # a sighting's length is bounded by the sightings this many frames either side ...
    local_slack: float = 1.15  # ... times this
    hold_presence: float = 0.25  # a frame between sightings whose presence is at least this ...
    hold_deg: float = 10.0  # ... and within this many degrees of the last or next sighting's anchors the bridge
    bridged_share: float = 0.5  # bridged confidence: this ** (k + 1), k frames out; held still, this x presence
    # memory
    work_kept_bytes: int = 512 * 2**20  # the first pass's shrunk frames are kept for the second up to this size


FrozenBatTuning = dataclasses.make_dataclass(
    "FrozenBatTuning", [(f.name, f.type, field(default=f.default)) for f in dataclasses.fields(BatTuning)],
    frozen=True)
FrozenBatTuning.__module__ = __name__
FrozenBatTuning.__doc__ = """:class:`BatTuning`, immutable: what the detector reads (:func:`frozen`)."""


def frozen(tuning: BatTuning) -> FrozenBatTuning:
    """An immutable copy of ``tuning`` (itself where it is one already): the detector's view,
    which nothing it calls can change."""
    if isinstance(tuning, FrozenBatTuning):
        return tuning
    return FrozenBatTuning(**{f.name: getattr(tuning, f.name) for f in dataclasses.fields(BatTuning)})


DEFAULT_TUNING = frozen(BatTuning())  # what the detector's functions read when given no settings


@dataclass
class BatSettings:
    """The bat-tip detector's settings (see :func:`corrkin.bat.detect.detect_bat`)."""

    angles: int = 180  # directions searched around the hands
    step_px: float = 1.0  # sampling step along a ray, pixels of the shrunk frame (work_shoulder_px)
    tau: float = 12.0  # least bar contrast (grey levels) that counts as bat
    body_margin: float = 0.22  # half-width of the body mask around each limb, shoulder widths
    max_length: float = 3.0  # longest bat searched, shoulder widths
    turn_rad: float = 0.8  # an angular change per frame costing a bat-length run at twice tau
    min_confidence: float = 0.2  # the least run counted as seen (half-shoulder-width runs at 2 tau)
    work_shoulder_px: float = 32.0  # frames are shrunk so the batter's shoulders span about this many pixels
    tuning: BatTuning = field(default_factory=BatTuning)  # the detector's inner numbers (bat.tuning.*)

    def __post_init__(self) -> None:
        need(self.angles >= 8, "bat.angles", self.angles, "must be >= 8")
        for key in ("step_px", "tau", "body_margin", "max_length", "turn_rad", "work_shoulder_px"):
            need(getattr(self, key) > 0, f"bat.{key}", getattr(self, key), "must be > 0")
        need(self.min_confidence >= 0, "bat.min_confidence", self.min_confidence, "must be >= 0")


def sealed(s: BatSettings) -> BatSettings:
    """A copy of ``s`` (a :class:`BatSettings`, or the composed ``bat`` config node) whose
    tuning is immutable (:func:`frozen`): what the detector's entry points work with."""
    kept = {f.name: getattr(s, f.name) for f in dataclasses.fields(BatSettings) if f.name != "tuning"}
    return BatSettings(**kept, tuning=frozen(s.tuning))
