"""Pure tensor maths: torch only, no I/O.

Axis vocabulary (every docstring uses it): ``B`` clips, ``T`` frames, ``J`` joints,
``N`` nodes (joints + bat), ``L`` lags. Pose is ``(B, T, J, 2)``, a frame mask ``(B, T)``,
a signal ``(..., T)``. Padding is always paired with a mask or with ``lengths (B,)``; a padded
clip gives bit for bit what the same clip gives alone (see :mod:`corrkin.ops.reduce`).
"""

from corrkin.ops.fill import fill_gaps
from corrkin.ops.graph import activation_frames, correlation_edges, max_weight_path
from corrkin.ops.kinematics import central_difference
from corrkin.ops.normalize import masked_median, median_scale, normalize_pose
from corrkin.ops.procrustes import procrustes
from corrkin.ops.reduce import blocked_sum, masked_mean
from corrkin.ops.savgol import savgol_coeffs, savgol_filter, savgol_window
from corrkin.ops.swing import bat_angular_velocity, swing_axis
from corrkin.ops.timing import (
    acf_effective_n,
    fit_peak_times,
    lag_peak,
    lag_search_p_value,
    lag_standard_error,
    refine_peak,
    smoothing_noise_gains,
)
from corrkin.ops.xcorr import (
    benjamini_hochberg,
    effective_n,
    fisher_p_value,
    lag1_autocorrelation,
    lagged_xcorr,
    zscore,
)

__all__ = [
    "acf_effective_n", "activation_frames", "bat_angular_velocity", "fit_peak_times", "benjamini_hochberg", "blocked_sum",
    "central_difference", "correlation_edges", "effective_n", "fill_gaps", "fisher_p_value",
    "lag1_autocorrelation", "lagged_xcorr", "masked_mean", "masked_median", "max_weight_path", "median_scale",
    "lag_peak", "lag_search_p_value", "lag_standard_error", "refine_peak", "smoothing_noise_gains",
    "normalize_pose", "procrustes", "savgol_coeffs", "savgol_filter", "savgol_window",
    "swing_axis", "zscore",
]
