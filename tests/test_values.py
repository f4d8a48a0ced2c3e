"""Values accepted at emit(): numbers of every kind, NaN, snapshots, and clear errors."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eventlog
from conftest import read_events
from eventlog import EncodeError
from eventlog._values import to_float


class FakeTensor:
    """A torch-like object: .item() for one element, .tolist() for many."""

    def __init__(self, data: Any) -> None:
        self.data = np.asarray(data)
        self.shape = self.data.shape

    def numel(self) -> int:
        return int(self.data.size)

    def item(self) -> Any:
        if self.data.size != 1:
            raise RuntimeError("a Tensor with more than one element cannot be converted to Scalar")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    eventlog.init(tmp_path / "r", run="r", console="off")
    return tmp_path / "r" / "events.jsonl"


def last(path: Path) -> dict[str, Any]:
    eventlog.flush()
    return read_events(path)[-1]


class TestNumbers:
    def test_nonfinite_floats_are_distinguishable_from_missing(self, path: Path) -> None:
        """NaN, +Inf and -Inf are written as strings, a missing value stays absent."""
        eventlog.emit("step_metrics", step=1, metrics={"nan": math.nan, "pos": math.inf, "neg": -math.inf, "ok": 1.5})
        m = last(path)["metrics"]
        assert {"nan": "NaN", "pos": "Infinity", "neg": "-Infinity", "ok": 1.5} == m
        assert math.isnan(to_float(m["nan"]))
        assert [math.inf, -math.inf] == [to_float(m["pos"]), to_float(m["neg"])]

    @pytest.mark.parametrize(
        "value",
        [
            np.float16(0.5),
            np.float32(0.5),
            np.float64(0.5),
            np.int64(3),
            np.bool_(True),
            np.array(0.5),
            FakeTensor(0.5),
            FakeTensor([0.5]),
        ],
    )
    def test_numpy_and_tensor_scalars_become_numbers(self, value: Any, path: Path) -> None:
        """numpy scalars, 0-d arrays and torch-like one-element tensors are stored as plain numbers."""
        eventlog.emit("step_metrics", step=1, metrics={"x": value})
        assert (
            float(np.asarray(value.data if isinstance(value, FakeTensor) else value).item())
            == last(path)["metrics"]["x"]
        )

    def test_arrays_become_lists_snapshotted_at_emit(self, path: Path) -> None:
        """A non-contiguous array is stored as a list, with the values it had at emit time."""
        arr = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
        eventlog.emit("log", level="info", msg="arr", values=arr, tensor=FakeTensor([[1, 2], [3, 4]]))
        arr[:] = -1
        ev = last(path)
        assert [[0.0, 2.0], [4.0, 6.0], [8.0, 10.0]] == ev["values"]
        assert [[1, 2], [3, 4]] == ev["tensor"]

    def test_dict_mutated_after_emit_is_not_seen(self, path: Path) -> None:
        """The event holds a copy: mutating the caller's dict afterwards changes nothing."""
        m = {"loss": 1.0}
        eventlog.emit("step_metrics", step=1, metrics=m)
        m["loss"] = 2.0
        assert 1.0 == last(path)["metrics"]["loss"]

    def test_dataclass_datetime_enum_are_stored(self, path: Path) -> None:
        """Dataclasses become objects, datetimes ISO strings."""

        @dataclasses.dataclass
        class Cfg:
            lr: float
            when: dt.date

        eventlog.emit("run_start", config={"cfg": Cfg(0.1, dt.date(2026, 1, 2))})
        assert {"cfg": {"lr": 0.1, "when": "2026-01-02"}} == last(path)["config"]


class TestUnencodable:
    @pytest.mark.parametrize(
        ("value", "words"),
        [
            (2**70, "does not fit in 64 bits"),
            ({(1, 2): "a"}, "object keys must be str, int"),
            ("bad \ud800 text", "lone surrogate"),
            (object(), "cannot store a object"),
        ],
    )
    def test_clear_error_naming_the_field(self, value: Any, words: str, path: Path) -> None:
        """emit() raises naming the field; the writer keeps working afterwards."""
        with pytest.raises(EncodeError, match=words) as exc:
            eventlog.emit("log", level="info", msg="x", payload=value)
        assert "payload" in str(exc.value)
        eventlog.emit("log", level="info", msg="after")
        assert "after" == last(path)["msg"]

    def test_cycle_is_refused(self, path: Path) -> None:
        """A container that contains itself is an error, not a hang."""
        a: list[Any] = [1]
        a.append(a)
        with pytest.raises(EncodeError, match="cycle"):
            eventlog.emit("log", level="info", msg="x", data=a)
