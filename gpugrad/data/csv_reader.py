"""CSV files of numbers, read with errors that say where the problem is: the line of the
file (1-based, as an editor shows it) and the column by its header and 1-based number. An
empty file, a header without rows, a ragged row, an empty or non-numeric cell, NaN/Inf, a
label that is not a class index (or is too large for one), bytes that are not UTF-8 and
values separated by something other than commas each get one clear error, with no NumPy
warning. Cells may be quoted as the csv module writes them (``"1","2","0"``); a UTF-8 byte
order mark is skipped.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import warnings

import numpy as np

from .errors import MAX_CLASSES as _MAX_CLASSES, DataError

__all__ = ["read_csv"]

_CSV_FORM = ("a CSV of data holds numbers only, one row per line, the label (a class index "
             "0..C-1) in the last column, and optionally one header line")


def read_csv(path):
    """The features (N, F) and labels (N,) of a CSV of numbers with the label in the last
    column, both float64 and checked (``datasets.load_file`` turns them into X, y); a first
    line holding text is a header, and names the columns in errors.

    Example::

        >>> from gpugrad.data.csv_reader import read_csv
        >>> with open("bad.csv", "w") as f:
        ...     _ = f.write("height,weight,label\\n1.5,60,0\\n1.8,?,1\\n")
        >>> read_csv("bad.csv")
        Traceback (most recent call last):
        gpugrad.data.DataError: bad.csv, line 3, column 2 ('weight'): '?' is not a ...
    """
    path = os.fspath(path)          # datasets.load_file has checked it is a file
    _check_utf8(path)
    header = _header(path)
    skip = 1 if header is not None else 0
    if not any(True for _ in _rows(path, skip)):
        if header is not None and _other_separator(header):
            raise DataError(f"{path} has one line, {header[0]!r}, and it is not comma-"
                            f"separated; {_CSV_FORM}, the values separated by commas")
        what = "has a header but no rows of data" if header else "is empty"
        raise DataError(f"{path} {what}; {_CSV_FORM}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # "input contained no data": checked above
            table = np.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2, dtype=np.float64,
                               quotechar='"', encoding=_ENCODING)
    except ValueError as exc:
        raise DataError(_first_unreadable(path, header) or f"{path}: not a CSV of numbers "
                        f"({exc})") from None
    if table.shape[1] < 2:
        raise DataError(f"{path} has one column ({_column(0, header)}); {_CSV_FORM}")
    bad = np.argwhere(~np.isfinite(table))
    if len(bad):
        row, col = bad[0]
        raise DataError(f"{_where(path, header, row, col)}: {table[row, col]} is not a finite "
                        f"number; fix or remove that row")
    labels = table[:, -1]
    bad = np.flatnonzero((labels != np.round(labels)) | (labels < 0))
    if len(bad):
        row, col = bad[0], table.shape[1] - 1
        raise DataError(f"{_where(path, header, row, col)} (the label column): "
                        f"{labels[row]:g} is not a class index; labels are whole numbers "
                        f"0..C-1 in the last column")
    bad = np.flatnonzero(labels > _MAX_CLASSES)
    if len(bad):
        row, col = bad[0], table.shape[1] - 1
        raise DataError(f"{_where(path, header, row, col)} (the label column): the label "
                        f"{labels[row]:.0f} is too large; labels are class indices 0..C-1 (at "
                        f"most {_MAX_CLASSES:,} classes)")
    return table[:, :-1], labels


_ENCODING = "utf-8-sig"            # UTF-8, skipping a byte order mark


def _check_utf8(path: str, chunk: int = 1 << 20) -> None:
    """A DataError naming the line of the first byte that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, done = 1, False
    with open(path, "rb") as f:
        while not done:
            block = f.read(chunk)
            done = not block
            try:
                decoder.decode(block, final=done)
            except UnicodeDecodeError as exc:
                start = max(exc.start, 0)
                line = lines + block[:start].count(b"\n")
                byte = block[start] if start < len(block) else None
                shown = f"byte 0x{byte:02x}" if byte is not None else "the end"
                raise DataError(f"{path}, line {line}: {shown} is not UTF-8 text; a CSV must "
                                f"be UTF-8 (re-save it as UTF-8, e.g. iconv -f latin1 -t "
                                f"utf-8)") from None
            lines += block.count(b"\n")


def _cells(line: str) -> list:
    """The cells of one line of a CSV, unquoted as the csv module reads them."""
    return [cell.strip() for cell in next(csv.reader([line], skipinitialspace=True), [""])]


_SEPARATORS = re.compile(r"\s*[;\t ]\s*")


def _other_separator(cells: list) -> bool:
    """Whether ``cells`` is one cell of two or more numbers separated by spaces, tabs or
    semicolons (a file that is not comma-separated)."""
    parts = _SEPARATORS.split(cells[0].strip()) if len(cells) == 1 else []
    return len(parts) > 1 and all(_is_number(part) for part in parts)


def _header(path: str):
    """The names of the columns when the first line holds text, else None."""
    with open(path, encoding=_ENCODING) as f:
        first = f.readline()
    cells = _cells(first.split("#", 1)[0])
    if not first.strip() or all(_is_number(cell) for cell in cells):
        return None
    return cells


def _rows(path: str, skip: int):
    """(line number, cells) of each data row, as np.loadtxt reads them: ``skip`` lines
    left out, '#' starts a comment, blank lines do not count."""
    with open(path, encoding=_ENCODING) as f:
        for number, line in enumerate(f, 1):
            text = line.split("#", 1)[0]
            if number > skip and text.strip():
                yield number, _cells(text)


def _column(j: int, header) -> str:
    name = header[j] if header is not None and j < len(header) else None
    return f"column {j + 1} ({name!r})" if name else f"column {j + 1}"


def _where(path: str, header, row: int, col: int) -> str:
    """``path, line L, column C ('name')`` of data row ``row`` (0-based)."""
    for i, (number, _) in enumerate(_rows(path, 1 if header is not None else 0)):
        if i == row:
            return f"{path}, line {number}, {_column(col, header)}"
    return f"{path}, data row {row + 1}, {_column(col, header)}"


def _first_unreadable(path: str, header) -> str | None:
    """What np.loadtxt could not read, said by line and column; None if not found."""
    width = len(header) if header is not None else None
    for number, cells in _rows(path, 1 if header is not None else 0):
        if width is None:
            width = len(cells)
        if len(cells) != width:
            first = "the header" if header is not None else "the first row"
            return (f"{path}, line {number}: {len(cells)} columns, but {first} has {width}; "
                    f"every row needs the same columns")
        if _other_separator(cells):
            return (f"{path}, line {number}: {cells[0]!r} is not comma-separated; "
                    f"{_CSV_FORM}, the values separated by commas")
        for j, cell in enumerate(cells):
            if not _is_number(cell):
                shown = f"{cell!r} is not a number" if cell else "the cell is empty"
                return f"{path}, line {number}, {_column(j, header)}: {shown}; {_CSV_FORM}"
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
