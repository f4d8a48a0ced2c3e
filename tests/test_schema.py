"""Validation of every event type at emit()."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

import eventlog
from conftest import read_events
from eventlog import Field, ValidationError

VALID: dict[str, dict[str, Any]] = {
    "run_start": {"config": {"lr": 0.1}, "host": "h", "world_size": 2},
    "run_end": {"status": "completed", "duration": 1.5},
    "phase_start": {"phase": "validation", "id": 7, "total_batches": 28},
    "phase_end": {"phase": "validation", "id": 7, "status": "ok", "duration": 2.0, "questions": 7405},
    "val_batch": {"batch": 1, "total_batches": 28, "avg_reward": 0.456},
    "step_metrics": {"step": 1, "metrics": {"loss": 0.2}, "timing": {"gen": 1.0}, "active_traj": [1, 2]},
    "group_summary": {"step": 1, "groups_total": 16, "groups_kept": 12},
    "group_detail": {"step": 1, "group": 0, "rewards": [1.0, 0.0], "turn_advantages": [[0.5, None]]},
    "checkpoint": {"step": 10, "path": "ckpt/10", "size_bytes": 100},
    "eval_summary": {"step": 10, "metrics": {"accuracy": 0.5}, "split": "val"},
    "sample": {"output": "42", "golden": ["42"], "correct": True, "reward": 1.0},
    "log": {"level": "warning", "msg": "observation too long", "length": 9000},
}
INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "run_start": ({"world_size": "two"}, "world_size"),
    "run_end": ({"status": "done"}, "status"),
    "phase_start": ({"id": 1}, "phase"),
    "phase_end": ({"phase": "x", "id": 1, "status": "ok"}, "duration"),
    "val_batch": ({"batch": 1, "total_batches": 2, "bogus_list": [1]}, "bogus_list"),
    "step_metrics": ({"step": 1, "metrics": {"loss": "high"}}, "metrics"),
    "group_summary": ({"step": 1, "groups_total": 1, "groups_kept": 1, "extra": [1]}, "extra"),
    "group_detail": ({"step": 1, "group": 0, "turn_advantages": [1, 2]}, "turn_advantages"),
    "checkpoint": ({"step": 1}, "path"),
    "eval_summary": ({"step": 1, "metrics": [0.5]}, "metrics"),
    "sample": ({"output": "x", "golden": "42"}, "golden"),
    "log": ({"level": "loud", "msg": "x"}, "level"),
}


@pytest.fixture
def run(tmp_path: Path) -> Path:
    eventlog.init(tmp_path / "r", run="r", console="off")
    return tmp_path / "r" / "events.jsonl"


class TestBuiltinTypes:
    @pytest.mark.parametrize("name", sorted(VALID))
    def test_valid_event_is_written(self, name: str, run: Path) -> None:
        """A valid payload of each built-in type is written with its fields."""
        eventlog.emit(name, **VALID[name])
        eventlog.flush()
        ev = read_events(run)[-1]
        assert name == ev["event"]
        for k, v in VALID[name].items():
            assert v == ev[k]

    @pytest.mark.parametrize("name", sorted(INVALID))
    def test_invalid_event_raises_naming_type_and_field(self, name: str, run: Path) -> None:
        """Strict mode raises an error that names the event type and the field."""
        payload, field = INVALID[name]
        with pytest.raises(ValidationError) as exc:
            eventlog.emit(name, **payload)
        assert name in str(exc.value)
        assert field in str(exc.value)

    def test_reserved_envelope_name_is_refused(self, run: Path) -> None:
        """A payload may not use an envelope name such as seq."""
        with pytest.raises(ValidationError, match="'seq' is a reserved envelope name"):
            eventlog.emit("log", level="info", msg="x", seq=3)


class TestLenientMode:
    def test_problem_warns_once_and_event_is_still_written(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without strict mode a bad field warns once per problem and the event is kept."""
        monkeypatch.delenv("EVENTLOG_STRICT")
        eventlog.init(tmp_path / "r", run="r", console="off")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                eventlog.emit("checkpoint", step=1, path="p", colour="blue")
        eventlog.flush()
        assert 1 == len([w for w in caught if "unknown field 'colour'" in str(w.message)])
        events = [e for e in read_events(tmp_path / "r" / "events.jsonl") if e["event"] == "checkpoint"]
        assert ["blue"] * 3 == [e["colour"] for e in events]


class TestUserTypes:
    def test_registered_type_is_validated(self, run: Path) -> None:
        """A registered type checks its own fields; unknown types pass through unchecked."""
        eventlog.register_event("reward_model", [Field("score", "number", required=True)], description="RM score")
        eventlog.emit("reward_model", score=0.9)
        with pytest.raises(ValidationError, match="score"):
            eventlog.emit("reward_model", score="high")
        eventlog.emit("my_free_event", anything=[1, 2])
        eventlog.flush()
        assert ["reward_model", "my_free_event"] == [e["event"] for e in read_events(run)[1:]]

    def test_builtin_name_cannot_be_registered(self) -> None:
        """register_event refuses to shadow a built-in type."""
        with pytest.raises(ValidationError, match="built-in"):
            eventlog.register_event("log")

    def test_unknown_field_kind_is_refused(self) -> None:
        """register_event names an unknown field kind instead of failing later at emit()."""
        with pytest.raises(ValidationError, match="unknown field kind 'decimal'"):
            eventlog.register_event("price", [Field("amount", "decimal")])  # type: ignore[arg-type]


class TestFieldKinds:
    def test_every_kind_carries_its_whole_meaning(self) -> None:
        """Each field kind has a check, a decoded check, a decoder, a schema, words and a reader dtype."""
        from eventlog._kinds import KINDS

        readers = {name: kind.reader for name, kind in KINDS.items()}
        assert {
            "int": "int",
            "number": "float",
            "string": "str",
            "bool": "bool",
            "object": "json",
            "numbers": "float_map",
            "ints": "int_list",
            "strings": "str_list",
            "number_list": "float_list",
            "number_lists": "float_lists",
            "scalar": "json",
            "any": "json",
        } == readers
        assert all(k.words and callable(k.check) and callable(k.ok) and callable(k.decode) for k in KINDS.values())

    def test_kind_names_are_declared_beside_the_kinds(self) -> None:
        """The KindName type lists exactly the kinds in KINDS (adding a kind touches _kinds.py only)."""
        from typing import get_args

        from eventlog._kinds import KINDS, KindName

        assert list(KINDS) == list(get_args(KindName))

    def test_testing_restores_nonfinite_phase_summary_numbers(self, run: Path) -> None:
        """read_events turns a NaN phase summary number (a scalar extra) back into a float, not the string "NaN"."""
        from eventlog.testing import read_events as read_back

        with eventlog.phase("validation") as p:
            p.summary(avg_reward=float("nan"), label_text="NaN-free")
        eventlog.flush()
        end = next(e for e in read_back(run) if e["event"] == "phase_end")
        assert isinstance(end["avg_reward"], float)
        assert end["avg_reward"] != end["avg_reward"]
        assert "NaN-free" == end["label_text"]

    def test_envelope_is_declared_once(self) -> None:
        """validate, the JSON Schema and emit() all use the envelope of _constants, in its order."""
        from eventlog._constants import ENVELOPE
        from eventlog._schema import _ENVELOPE_OK, json_schema

        assert list(ENVELOPE) == list(_ENVELOPE_OK)
        assert list(ENVELOPE) == json_schema("envelope")["required"]
        assert list(ENVELOPE) == list(json_schema("envelope")["properties"])
