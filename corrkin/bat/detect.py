"""Bat tip from pixels and pose, batched over all frames of a clip: :func:`detect_bat`, the
entry point, and its result :class:`BatTrack`. The steps live in the package's modules, each
named below; every number they decide by is in :mod:`corrkin.bat.settings`.

1. **Evidence** (:mod:`corrkin.bat.sampling`, :mod:`corrkin.bat.evidence`). The bat is a thin
   bar that starts at the hands. Rays are cast from the hands (the wrists' midpoint) in
   ``angles`` directions; along each, every ``step_px``, the ridge
   contrast ``D`` (the grey level at the centre against both sides at a bat's width ``w``: the
   smaller difference where both have the same sign, else 0, so an edge or a line crossing
   beside the ray is no bar) is sampled with ``grid_sample``: a line detector for lines
   through the hands. A bat may be lighter or darker than what is behind it, so ``|D|`` counts.
2. **The body is not evidence** (:mod:`corrkin.bat.body`). Limbs and torso are bars too, near
   the hands the bat overlaps them, and the gap between two limbs looks like a dark bar. Where a ray point or either of
   its side samples lies within ``body_margin`` shoulder widths of a limb of the pose (or of
   the head, placed above the shoulders), the point is neutral: it neither supports nor counts
   against the ray. The same holds for the bodies of other people in the frame, where given.
3. **Length** (:mod:`corrkin.bat.track`). Along each ray the bat is the best run ``[a, L]`` of
   ``|D| - tau`` (capped at ``gain_cap`` tau per point, so a short, very bright crossing cannot
   outweigh a bar's length) that lies beyond the body; the tip is its far end ``L`` and the ray's score that run's sum.
   Once the bat's length is known from the clip, runs are bounded by it (:func:`track_bat`).
   The bat is held, so its run starts at the hands or where the ray comes out from behind the
   body (``held_sw``): a bar of the background beyond plain ground is no candidate. Over busy
   ground the floor under ``|D|`` rises with the frame's texture, but not on the body: the
   bat is seen against the shirt, not against the wall behind.
4. **Motion model.** One direction per frame is chosen for the whole clip at once by dynamic
   programming (Viterbi) with a cost on angular change, not by per-frame guesses.
5. **Presence** (:mod:`corrkin.bat.presence`). Whether a bat is visible at all is decided per
   frame against that frame's own null: the scores of the directions away from the track
   (:func:`~corrkin.bat.presence.presence`), a calibrated probability (``BatTrack.presence``; a
   frame counts as seen from :data:`~corrkin.bat.settings.SEEN_SCORE`). A bar that runs on past
   the longest bat is the background, never a bat.
6. **Colour.** A bat has one colour through a clip. Once its direction stands out in a few
   frames, its colour is learned from them (:func:`~corrkin.bat.evidence.bat_colour`) and the frames are searched
   again with it: a point of that colour whose sides are not supports the ray, any other point
   counts against it, and each point may show the bat in any channel. On grass, gravel or brick,
   where the ground is full of bars, this is what finds the bat in the frames where contrast
   alone could not.
7. **Bridge** (:mod:`corrkin.bat.presence`). Between frames that saw the bat (hidden behind the
   body, or blurred), it turns on, angle and length interpolated: a cubic in the angle that keeps the turn rates seen on
   either side (the bat is usually hidden mid-swing, accelerating), confidence ``0.5 ** (k +
   1)`` ``k`` frames from the nearest sighting. A frame in between that points where the bat was
   last (or will next be) seen, with some presence, is the bat held still: it anchors the bridge
   (confidence half its presence), so a swing that starts late is not begun early. Before the
   first sighting and after the last, and in a clip with none, the bat is absent (NaN): nothing
   is placed where nothing was seen.
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch

from corrkin.bat.body import person_size
from corrkin.bat.evidence import Evidence, bat_colour, bat_evidence
from corrkin.bat.sampling import work_factor, work_image
from corrkin.bat.settings import BatSettings, sealed
from corrkin.bat.track import ABSENT, BRIDGED, SEEN, BatTrack, track_bat

__all__ = ["ABSENT", "BRIDGED", "SEEN", "BatTrack", "detect_bat"]


def detect_bat(frames: torch.Tensor | Callable[[], Iterable[torch.Tensor]] | Iterable[torch.Tensor],
               keypoints: torch.Tensor, settings: BatSettings | None = None, chunk_frames: int = 64,
               others: torch.Tensor | None = None) -> BatTrack:
    """Track the bat tip through one clip, in two passes over the frames: the bar's contrast
    alone, then (where a colour could be learned from the first, :func:`bat_colour`) with the
    bat's colour too: a bat has one colour through a clip, and on busy ground (grass, gravel,
    brick) that is what tells its bar from the ground's many others.

    Args:
        frames: ``(T, 3, H, W)`` uint8 RGB or ``(T, 1, H, W)`` grey; or a function returning
            an iterable of such chunks in order, called once per pass (a long clip read
            twice, never held whole); or an iterable of chunks (held for the second pass).
            They are shrunk to the batter's size first (:func:`work_factor`); the shrunk
            frames are kept for the second pass while they fit ``tuning.work_kept_bytes`` (then the
            frames are not read again), else shrunk afresh: the same numbers either way.
        keypoints: ``(T, 13, 2)`` the batter's joints in the frames' pixels.
        settings: :class:`BatSettings`: ``angles`` searched, ``step_px`` along a ray, ``tau``
            least bar contrast (grey levels), ``body_margin`` half-width of the body mask
            (shoulder widths), ``max_length`` longest bat (shoulder widths), ``turn_rad`` the
            angular change per frame that costs as much as a bat-length run at twice ``tau``,
            ``min_confidence`` the least run (in half-shoulder-width runs at twice ``tau``)
            that counts as seen, whatever the presence; ``tuning`` the detector's inner numbers
            (:class:`~corrkin.bat.settings.BatTuning`).
        others: ``(T, Q, 13, 2)`` the other people in the frames (NaN where absent): their
            bodies are masked too, so a fielder or keeper by the bat is not taken for it.
    """
    s = sealed(settings or BatSettings())
    kp = keypoints.float()
    max_sw, factor = float(person_size(kp, s.tuning).max()), work_factor(kp, s)
    if isinstance(frames, torch.Tensor):
        whole = frames
        passes = lambda: (whole[i: i + chunk_frames] for i in range(0, len(whole), chunk_frames))  # noqa: E731
    elif callable(frames):
        passes = frames
    else:
        held = list(frames)
        passes = lambda: held  # noqa: E731

    shrunk: list[torch.Tensor] | None = []  # the first pass's work images, while they fit work_kept_bytes

    def evidence(colour=None) -> Evidence:
        nonlocal shrunk
        parts, f0, size = [], 0, 0
        again = colour is not None and shrunk is not None
        for chunk in (shrunk if again else passes()):
            image = chunk.float() if again else work_image(chunk, factor)
            if not again and shrunk is not None:
                # the CPU path's levels are whole numbers (OpenCV on uint8): int16 holds them exactly
                kept = image.to(torch.int16) if chunk.device.type == "cpu" and chunk.dtype == torch.uint8 else image
                size += kept.numel() * kept.element_size()
                if size <= s.tuning.work_kept_bytes:
                    shrunk.append(kept)
                else:
                    shrunk = None
            near = None if others is None else others[f0: f0 + len(image)].float().to(image.device)
            parts.append(bat_evidence(image, kp[f0: f0 + len(image)].to(image.device), s, max_sw, near, caps=True,
                                      factor=factor, colour=colour, shrunk=True))
            f0 += len(image)
        if f0 != len(kp):
            raise ValueError(f"detect_bat: {f0} frames but {len(kp)} poses")
        return Evidence(*(torch.cat(x) for x in zip(*parts)))

    first = evidence()
    track = track_bat(first.score, first.length, kp.to(first.score.device), s, first.cut)
    colour = bat_colour(track, first, s.tuning)
    if colour is None:
        return track
    second = evidence(colour)
    return track_bat(second.score, second.length, kp.to(second.score.device), s, second.cut)
