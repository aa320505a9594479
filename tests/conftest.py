import os

import pytest
import torch
from hypothesis import HealthCheck, settings

# Property tests: a fixed, reproducible search under CI=true (the same examples on every run,
# no example database), a wider random one elsewhere. Failing examples found locally are pinned
# with @example so CI checks them too.
settings.register_profile("ci", derandomize=True, database=None, max_examples=60, deadline=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")

from tests.helpers.data import SEED_DIR

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    """Every op test runs on each available device."""
    return request.param


@pytest.fixture(params=[torch.float32, torch.float64], ids=["f32", "f64"])
def dtype(request) -> torch.dtype:
    return request.param


@pytest.fixture(scope="session")
def seed_dir():
    if not (SEED_DIR / "README.md").is_file():
        pytest.skip(f"seed keypoints not found at {SEED_DIR} (the shared data folder is absent)")
    return SEED_DIR


IMPLS = [("cpu", "cpp"), ("cpu", "wavefront")] + ([("cuda", "wavefront")] if torch.cuda.is_available() else [])


@pytest.fixture(params=IMPLS, ids=[f"{d}-{i}" for d, i in IMPLS])
def dtw_impl(request) -> tuple[str, str]:
    """DTW tests run on each device with each implementation there: (device, impl)."""
    return request.param
