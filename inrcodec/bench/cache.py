"""The row cache that makes a benchmark resumable.

Every finished (image, codec, setting) measurement is one JSON line in ``rows.jsonl`` in the
output folder, appended and flushed as soon as it exists, so an interrupted run loses at most the
tasks in flight. A row's key hashes everything that decides its numbers: the image's pixel hash,
the codec name, its options and library version, the setting, and the seed where the codec uses
one. A rerun skips every task whose key is already there.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import OutputError

ROWS_FILE = "rows.jsonl"


def task_key(image_sha256: str, identity: Mapping[str, Any], setting: float) -> str:
    """The cache key of one measurement (a hex SHA-256 of its canonical JSON description)."""
    description = {"image": image_sha256, "setting": float(setting), **identity}
    canonical = json.dumps(description, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class RowCache:
    """The rows of ``rows.jsonl`` by key, with append-as-you-go writes."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.path = Path(folder) / ROWS_FILE
        self._rows: dict[str, dict[str, Any]] = {}
        # A run killed mid-write leaves a last line without its newline; start a fresh line.
        self._newline_first = False
        if self.path.exists():
            text = _read_text(self.path)
            self._rows = dict(_parse_rows(text))
            self._newline_first = bool(text) and not text.endswith("\n")

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, key: str) -> dict[str, Any] | None:
        return self._rows.get(key)

    def rows(self) -> list[dict[str, Any]]:
        """Every cached row, oldest first."""
        return list(self._rows.values())

    def add(self, row: Mapping[str, Any]) -> None:
        """Store a row (it must have a 'key') and append it to the file at once."""
        line = json.dumps(dict(row), sort_keys=True) + "\n"
        if self._newline_first:
            line = "\n" + line
        try:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
            self._newline_first = False
        except OSError as e:
            raise OutputError(f"cannot write {self.path}: {e.strerror}") from None
        self._rows[row["key"]] = dict(row)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise OutputError(f"cannot read {path}: {e.strerror}") from None


def _parse_rows(text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut short by an interrupted run: that task simply runs again
        if isinstance(row, dict) and "key" in row:
            yield row["key"], row
