"""What a clip is through a batch command, from its analysis to its ``summary.csv`` row."""

from __future__ import annotations

from dataclasses import dataclass

from corrkin.io.keypoints import ClipError


@dataclass
class ClipResult:
    """One clip through a batch command (analyse, run, library), from its analysis to its
    summary: ``row`` is its ``summary.csv`` row (``status`` ok, or failed with the reason);
    ``record`` (``result.json``) and ``arrays`` (``series.npz``) are held until the clip is
    written, ``metrics`` (its ``metrics.csv`` row) once it is."""

    name: str
    row: dict
    record: dict | None = None
    arrays: dict | None = None
    metrics: dict | None = None

    @property
    def ok(self) -> bool:
        return self.row["status"] == "ok"

    @classmethod
    def failed(cls, name: str, err: BaseException | str) -> ClipResult:
        """A clip that failed (to read, analyse or write), with the reason (:func:`failed_row`)."""
        return cls(name, failed_row(name, err))

def failed_row(name: str, err: BaseException | str) -> dict:
    """The summary row of a failed clip, from its error or the reason itself."""
    file = ""
    if isinstance(err, ClipError):
        err, file = err.reason, err.path
    elif isinstance(err, BaseException):
        err = f"{type(err).__name__}: {err}"
    return {"clip": name, "status": "failed", "error": err, "file": file}
