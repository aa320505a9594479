"""Composing the project's Hydra configs in tests."""

from __future__ import annotations

from hydra import compose, initialize_config_dir

from corrkin.cli import CONFIG_DIR
from corrkin.config import register_configs


def compose_config(name: str, overrides=(), config_dir: str = CONFIG_DIR, hydra: bool = False):
    """The config ``name`` of ``config_dir`` with ``overrides`` (and Hydra's own node with
    ``hydra=True``), schemas registered."""
    register_configs()
    with initialize_config_dir(config_dir, version_base="1.3"):
        return compose(name, overrides=list(overrides), return_hydra_config=hydra)
