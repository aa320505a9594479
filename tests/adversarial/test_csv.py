"""CSV as people write it (Excel's byte-order mark, CRLF, quotes, semicolons, Windows-1252): read
right, or refused in one line naming the file and the line; never rows lost or folded silently."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from corrkin.cli import main
from corrkin.commands.library import read_manifest
from corrkin.io.tables import read_csv, read_impacts
from corrkin.library.alignment import read_labels
from tests.adversarial.test_bad_input import GOOD, good  # noqa: F401  (the fixture)

ROWS = [("a.npz", "Zoë", "cover drive"), ("b.npz", "Bob", "pull")]


def _manifest(folder: Path, *, sep=",", bom=False, crlf=False, encoding="utf-8", quote_all=False) -> Path:
    lines = [sep.join(("batter", "path", "shot"))]
    for path, batter, shot in ROWS:
        cells = (batter, path, shot)
        if quote_all:
            cells = tuple(f'"{c}"' for c in cells)
        lines.append(sep.join(cells))
    text = ("\r\n" if crlf else "\n").join(lines) + ("\r\n" if crlf else "\n")
    data = text.encode(encoding)
    p = folder / "manifest.csv"
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return p


DIALECTS = {"plain": {}, "Excel UTF-8 (BOM, CRLF)": dict(bom=True, crlf=True), "semicolons": dict(sep=";"),
            "tabs": dict(sep="\t"), "quoted": dict(quote_all=True), "Windows-1252": dict(encoding="cp1252"),
            "BOM, semicolons, quoted": dict(bom=True, sep=";", quote_all=True, crlf=True)}


@pytest.mark.parametrize("dialect", list(DIALECTS))
def test_every_dialect_reads_the_same_rows(dialect, tmp_path):
    items = read_manifest(_manifest(tmp_path, **DIALECTS[dialect]))
    assert [(Path(i.path).name, i.batter, i.shot) for i in items] == ROWS


@pytest.mark.parametrize("dialect", ["Excel UTF-8 (BOM, CRLF)", "semicolons"])
def test_labels_and_impacts_read_through_the_same_dialects(dialect, tmp_path):
    opts = DIALECTS[dialect]
    labels = read_labels(_manifest(tmp_path, **opts))
    assert labels == {"a": {"batter": "Zoë", "shot": "cover drive"}, "b": {"batter": "Bob", "shot": "pull"}}
    sep = opts.get("sep", ",")
    p = tmp_path / "impacts.csv"
    p.write_bytes(b"\xef\xbb\xbf" + f"clip{sep}impact_s\r\na{sep}1.25\r\nb{sep}0.5\r\n".encode())
    assert read_impacts(p) == {"a": 1.25, "b": 0.5}


def test_an_unclosed_quote_is_an_error_naming_the_line(tmp_path):
    p = tmp_path / "manifest.csv"
    p.write_text('path,batter,shot\na.npz,"Ann,drive\nb.npz,Bob,pull\nc.npz,Cy,cut\n')
    with pytest.raises(ValueError, match=r"manifest.csv, line \d"):
        read_manifest(p)


def test_a_row_with_too_many_fields_is_an_error_naming_the_line(tmp_path):
    p = tmp_path / "manifest.csv"
    p.write_text("path,batter,shot\na.npz,Ann,drive\nb.npz,Smith, Bob,pull\n")
    with pytest.raises(ValueError, match=r"line 3: 4 fields, the header has 3"):
        read_manifest(p)


def test_duplicate_keys_are_an_error_naming_both_lines(tmp_path):
    p = tmp_path / "impacts.csv"
    p.write_text("clip,impact_s\na,1.0\nb,2.0\na,1.5\n")
    with pytest.raises(ValueError, match=r"lines 2 and 4: the same 'a' twice"):
        read_impacts(p)
    labels = tmp_path / "labels.csv"
    labels.write_text("clip,batter,shot\na,Ann,drive\na,Bob,pull\n")
    with pytest.raises(ValueError, match="lines 2 and 3"):
        read_labels(labels)


def test_a_missing_column_names_what_is_needed(tmp_path):
    p = tmp_path / "impacts.csv"
    p.write_text("name;time\na;1.0\n")
    with pytest.raises(ValueError, match="needs the columns clip or path and impact_s"):
        read_impacts(p)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "impacts.csv"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        read_csv(fifo, "impacts", (("clip",),))


def test_a_library_from_an_excel_manifest_keeps_every_label(good, tmp_path):  # noqa: F811
    manifest = tmp_path / "manifest.csv"
    rows = [f"Zoë;{good / 'clips' / f'{GOOD[0]}.npz'};cover drive", f"Bob;{good / 'clips' / f'{GOOD[1]}.npz'};pull"]
    manifest.write_bytes(b"\xef\xbb\xbf" + ("batter;path;shot\r\n" + "\r\n".join(rows) + "\r\n").encode())
    out = tmp_path / "lib"
    assert main(["library", f"input={manifest}", f"output={out}", "progress=false", "formats=[csv]", "align=false"]) == 0
    with open(out / "library.csv", newline="", encoding="utf-8") as f:
        got = sorted((r["batter"], r["shot"]) for r in csv.DictReader(f))
    assert got == [("Bob", "pull"), ("Zoë", "cover drive")]


def test_a_library_from_a_folded_manifest_stops_before_any_work(good, tmp_path, capsys):  # noqa: F811
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f'path,batter,shot\n{good / "clips" / f"{GOOD[0]}.npz"},"Ann,drive\n'
                        f'{good / "clips" / f"{GOOD[1]}.npz"},Bob,pull\n')
    out = tmp_path / "lib"
    assert main(["library", f"input={manifest}", f"output={out}", "progress=false", "align=false"]) == 2
    err = capsys.readouterr().err
    assert "manifest.csv, line" in err and "Traceback" not in err
    assert not (out / "clips").exists()


def test_a_blank_written_as_nan_is_not_given_and_infinity_is_an_error(tmp_path):
    p = tmp_path / "manifest.csv"
    p.write_text("path,batter,shot,impact_s,fps\na.npz,Ann,drive,nan,\nb.npz,Bob,pull,NA,25\n")
    items = read_manifest(p)
    assert [i.impact_s for i in items] == [None, None] and items[1].fps == 25.0
    p.write_text("path,batter,shot,impact_s\na.npz,Ann,drive,inf\n")
    with pytest.raises(ValueError, match="line 2: impact_s 'inf' is not a finite number"):
        read_manifest(p)
