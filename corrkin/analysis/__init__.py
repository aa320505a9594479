"""The correlated-kinetics analysis: keypoints to the correlation path."""

from corrkin.analysis.engine import AnalysisOutput, analyse, to_records, validate_clip

__all__ = ["AnalysisOutput", "analyse", "to_records", "validate_clip"]
