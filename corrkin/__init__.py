"""corrkin: correlated kinetics of batting strokes.

Importing the package is cheap (no torch); the commands are ``corrkin <command>`` and the
notebook API is :mod:`corrkin.api` (``corrkin.analyse``, ``corrkin.load_results``, ...).
"""

__version__ = "0.2.0"

_API = ("analyse", "run", "load_results", "Results")


def __getattr__(name: str):
    """The notebook API (:mod:`corrkin.api`), imported on first use: ``import corrkin`` stays
    cheap."""
    if name in _API:
        from corrkin import api

        return getattr(api, name)
    raise AttributeError(f"module 'corrkin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_API))
