"""Writing an imported run: every event checked against its schema, the source's timestamps kept."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from eventlog._schema import check
from eventlog.exceptions import ValidationError
from eventlog_cli.errors import DataError

__all__ = ["RunWriter"]


class RunWriter:
    """Appends validated events to ``<out>/events.jsonl`` (rank 0, one ``seq`` sequence); refuses an existing file."""

    def __init__(self, out: Path, run: str, source: str, fmt: str = "") -> None:
        self.path = out / "events.jsonl"
        self.format = fmt
        self.run = run
        self.source = source
        self.seq = 0
        self.counts: Counter[str] = Counter()
        self.notes: list[str] = []
        held = sorted(p.name for p in out.glob("*.jsonl*") if p.name != "events.jsonl") if out.is_dir() else []
        if held:  # another run's files (a rank file, a .jsonl.gz): the directory would read as two runs
            shown = ", ".join(held[:3]) + (" ..." if len(held) > 3 else "")
            msg = f"{out} already holds event files ({shown}); pass an empty or new --out directory"
            raise DataError(msg)
        self._made = [d for d in (out, *out.parents) if not d.exists()]  # what abort() removes again
        try:
            out.mkdir(parents=True, exist_ok=True)
            self._f = open(self.path, "xb")  # noqa: SIM115 - closed in close()
        except FileExistsError:
            msg = f"{self.path} already exists; pass an empty or new --out directory (nothing is overwritten)"
            raise DataError(msg) from None
        except OSError as exc:
            raise DataError(f"cannot write {self.path}: {exc.strerror}") from None

    def emit(self, event: str, ts: float, where: str = "", /, **payload: Any) -> None:
        """One event at time ``ts`` (UNIX seconds); ``where`` names the source position for errors."""
        ev: dict[str, Any] = {"v": 1, "ts": round(ts, 6), "event": event, "run": self.run, "rank": 0, "seq": self.seq}
        try:
            check(event, payload, True, _never, ev)
        except ValidationError as exc:
            at = f" ({where})" if where else ""
            raise DataError(f"{self.source}{at}: cannot import: {exc}") from None
        self._f.write(orjson.dumps(ev) + b"\n")
        self.seq += 1
        self.counts[event] += 1

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def close(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()

    def abort(self) -> None:
        """Remove the half-written file (an import either completes or leaves nothing)."""
        self._f.close()
        self.path.unlink(missing_ok=True)
        for d in self._made:  # the directories this import made, innermost first, if nothing else is in them
            try:
                d.rmdir()
            except OSError:
                break


def _never(key: str, message: str) -> None:  # strict: check() raises instead of calling this
    raise ValidationError(message)
