"""The correlated-kinetics analysis: keypoints to the correlation path.

Names are imported lazily so that file readers (``corrkin.analysis.checks``) stay free of torch.
"""

__all__ = ["AnalysisOutput", "analyse", "to_records", "validate_clip"]


def __getattr__(name):
    if name in __all__:
        from corrkin.analysis import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'corrkin.analysis' has no attribute {name!r}")
