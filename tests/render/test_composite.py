"""The synchronised grid: tiles in place, each labelled at its bottom, clear of the skeleton
videos' own caption at the top."""

import numpy as np
import pytest

from corrkin.render.composite import composite
from corrkin.render.skeleton import caption_height


def test_tiles_are_labelled_at_the_bottom_and_their_tops_left_alone():
    grey = np.full((10, 240, 240, 3), 200, np.uint8)
    out = composite([grey, grey], [25.0, 25.0], ["cover drive", "pull"], cols=2, tile=(240, 240), out_fps=25.0)
    assert out.shape == (10, 240, 480, 3)
    label = caption_height(240, 1)
    for c in (0, 1):
        tile = out[0, :, c * 240: (c + 1) * 240]
        assert (tile[: 240 - label] == 200).all()  # the tile's own caption area untouched
        strip = tile[240 - label:]
        assert (strip < 100).all(-1).any() and (strip > 230).all(-1).any()  # dark box, white letters
    unlabelled = composite([grey, grey], [25.0, 25.0], None, cols=2, tile=(240, 240), out_fps=25.0)
    assert (unlabelled == 200).all()


def test_a_grid_with_no_clips_or_mismatched_rates_says_so():
    with pytest.raises(ValueError, match="no clips"):
        composite([], [])
    with pytest.raises(ValueError, match="2 clips but 1 frame rates"):
        composite([np.zeros((2, 8, 8, 3), np.uint8)] * 2, [25.0])
