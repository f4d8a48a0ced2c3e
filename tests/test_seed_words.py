"""Issue 11, what the acceptance tests leave open: settings, stored values, eval files, formats, the look table."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import eventlog
from eventlog import Column, ConfigError, Renderer
from eventlog._columns import StepTable
from eventlog._config import load_config
from eventlog._evalfiles import flat_eval, saved_beside
from eventlog._looks import LOOKS, WORDS
from eventlog.testing import read_events


class TestSettings:
    @pytest.mark.parametrize(("value", "expected"), [("true", "verbose"), ("1", "verbose"), ("false", "concise")])
    def test_verbose_switch(self, tmp_path: Path, value: str, expected: str) -> None:
        """VERBOSE=true/1 turns verbose on, VERBOSE=false off; the source is named."""
        cfg = load_config(env={"VERBOSE": value}, cwd=tmp_path)
        assert (expected, "VERBOSE") == (cfg.verbosity, cfg.sources["verbosity"])

    def test_verbose_is_a_common_name_so_odd_values_are_ignored(self, tmp_path: Path) -> None:
        """VERBOSE=2 (another tool's level) neither fails init nor changes the verbosity."""
        assert "concise" == load_config(env={"VERBOSE": "2"}, cwd=tmp_path).verbosity

    def test_eventlog_verbosity_wins_over_verbose(self, tmp_path: Path) -> None:
        """EVENTLOG_VERBOSITY is the library's own variable: it wins over VERBOSE."""
        env = {"VERBOSE": "true", "EVENTLOG_VERBOSITY": "concise"}
        assert "concise" == load_config(env=env, cwd=tmp_path).verbosity

    def test_console_level_and_eval_files_from_env_and_file(self, tmp_path: Path) -> None:
        """console_level and eval_files are ordinary keys: env, file and init() set them."""
        (tmp_path / "eventlog.toml").write_text('console_level = "warning"\neval_files = false\n')
        cfg = load_config(cwd=tmp_path, env={})
        assert ("warning", False) == (cfg.console_level, cfg.eval_files)
        assert "debug" == load_config(env={"EVENTLOG_CONSOLE_LEVEL": "DEBUG"}, cwd=tmp_path).console_level

    def test_bad_console_level_is_one_line(self, tmp_path: Path) -> None:
        """A bad level names where it came from and what is expected."""
        with pytest.raises(ConfigError, match=r"EVENTLOG_CONSOLE_LEVEL='loud': expected one of debug, info"):
            load_config(env={"EVENTLOG_CONSOLE_LEVEL": "loud"}, cwd=tmp_path)

    def test_columns_mix_objects_and_names(self, tmp_path: Path) -> None:
        """columns= takes Column objects, names, or both; anything else is a ConfigError."""
        col = Column("rew", 6, "rew", "+.2f")
        assert (col, "loss") == load_config({"columns": [col, "loss"]}, env={}, cwd=tmp_path).columns
        with pytest.raises(ConfigError, match="neither a Column nor a metric name"):
            load_config({"columns": [col, 3]}, env={}, cwd=tmp_path)


class TestStoredValues:
    def test_pairs_and_none_are_numbers_in_the_file(self) -> None:
        """An (n, d) metric is stored as n and <key>_denom; None as null ("not measured", not NaN: issue 13)."""
        eventlog.init("run", run="t", console="off")
        eventlog.emit("step_metrics", step=1, metrics={"gt_s": (3, 8), "hk": None, "loss": 0.5})
        eventlog.finish()
        ev = next(e for e in read_events(Path("run/events.jsonl")) if e["event"] == "step_metrics")
        m = ev["metrics"]
        assert (3, 8, 0.5) == (m["gt_s"], m["gt_s_denom"], m["loss"])
        assert m["hk"] is None

    def test_replayed_frac_cell_is_the_same(self) -> None:
        """The table shows the stored pair as n/d again (the renderer reads <key>_denom)."""
        table = StepTable([Column("gt_s", 6, "gt_s", "frac")])
        assert "   3/8" == table.row({"metrics": {"gt_s": 3, "gt_s_denom": 8}})


class TestColumnFormats:
    @pytest.mark.parametrize(
        ("fmt", "value", "text"),
        [
            ("+.2f", 0.5, "+0.50"),
            (".1e", 0.00123, "1.2e-03"),
            ("d", 1200, "1200"),
            ("d", 2.5, "2.5"),
            ("04d", 7, "0007"),
            ("+.2f", 3, "+3.00"),
            ("f3", 0.5, "0.500"),
            ("pct", 0.25, "25.0%"),
            ("+.2f", "NaN", "nan"),
            ("+.2f", None, "nan"),
        ],
    )
    def test_format(self, fmt: str, value: Any, text: str) -> None:
        """Python format specs next to the table's own (fN, pct...); NaN and None are nan."""
        assert text == Column("x", 10, "x", fmt).format({"x": value}).strip()

    def test_a_spec_that_does_not_fit_the_value_does_not_raise(self) -> None:
        """A spec the value cannot take (a bad spec, 'd' for a fraction) falls back to a plain number."""
        assert "0.5" == Column("x", 10, "x", "q!").format({"x": 0.5}).strip()

    def test_no_legend_without_descriptions(self) -> None:
        """Columns without a description print no legend at all."""
        table = StepTable([Column("step", 4, "step", "d")])
        assert ["step", "   1"] == table.stream({"step": 1})


def _run_with(settings: dict[str, Any], body: Any) -> list[str]:
    buf = io.StringIO()
    eventlog.init("run", run="t", console_stream=buf, **settings)
    body()
    eventlog.finish()
    return buf.getvalue().splitlines()


class TestEvalFiles:
    def test_flat_object_keeps_step_and_lets_metrics_win(self) -> None:
        """step is the event's step; a metric named like split/total/duration wins over the field."""
        ev = {"step": 3, "split": "val", "total": 8, "metrics": {"accuracy": 0.5, "total": 7, "step": 99}}
        assert {"step": 3, "accuracy": 0.5, "total": 7, "split": "val"} == flat_eval(ev)

    def test_write_failure_is_reported_once_and_training_goes_on(self, capsys: pytest.CaptureFixture[str]) -> None:
        """eval_logs cannot be created (a file is in the way): one stderr block, no saved line, events kept."""
        Path("run").mkdir()
        Path("run/eval_logs").write_text("in the way")

        def body() -> None:
            for step in (1, 2):
                eventlog.emit("eval_summary", step=step, metrics={"accuracy": 0.5})

        lines = _run_with({}, body)
        err = capsys.readouterr().err
        assert 1 == err.count("could not write the eval stats file")
        assert not any("Eval stats saved to" in ln for ln in lines)
        assert 2 == sum(e["event"] == "eval_summary" for e in read_events(Path("run/events.jsonl")))

    def test_eval_files_without_a_console(self) -> None:
        """console='off' still writes the files (the console is only one reader of them)."""
        _run_with({"console": "off"}, lambda: eventlog.emit("eval_summary", step=4, metrics={"accuracy": 1.0}))
        assert {"step": 4, "accuracy": 1.0} == json.loads(Path("run/eval_logs/eval_step_0004.json").read_text())

    def test_two_splits_at_a_step_keep_both_files(self) -> None:
        """A second split evaluated at the same step (HF's named eval sets) gets its own file, not the first's."""

        def body() -> None:
            for step in (2, 4):
                eventlog.emit("eval_summary", step=step, split="g0", metrics={"accuracy": 0.25 * step / 2})
                eventlog.emit("eval_summary", step=step, split="g1", metrics={"accuracy": 0.5, "f1": 0.1 * step})

        lines = _run_with({}, body)
        logs = Path("run/eval_logs")
        assert [
            "eval_step_0002.g1.json",
            "eval_step_0002.json",
            "eval_step_0004.g1.json",
            "eval_step_0004.json",
        ] == sorted(p.name for p in logs.glob("eval_step_*.json"))
        assert {"step": 4, "accuracy": 0.5, "split": "g0"} == json.loads((logs / "eval_step_0004.json").read_text())
        assert 0.4 == json.loads((logs / "eval_step_0004.g1.json").read_text())["f1"]
        saved = [ln.split("saved to: ", 1)[1] for ln in lines if "Eval stats saved to" in ln]
        assert [
            "run/eval_logs/eval_step_0002.json",
            "run/eval_logs/eval_step_0002.g1.json",
            "run/eval_logs/eval_step_0004.json",
            "run/eval_logs/eval_step_0004.g1.json",
        ] == saved
        replayed = [saved_beside("run/events.jsonl")(e) for e in read_events(Path("run/events.jsonl"))]
        assert saved == [p for p in replayed if p is not None]

    def test_other_ranks_write_none(self) -> None:
        """Rank 1 shares the run directory: only rank 0 writes eval files."""
        _run_with({"rank": 1}, lambda: eventlog.emit("eval_summary", step=4, metrics={"accuracy": 1.0}))
        assert not Path("run/eval_logs").exists()


class TestLooks:
    def test_console_level_warning_hides_info(self) -> None:
        """console_level='warning' keeps info logs off the console (they stay in the file)."""

        def body() -> None:
            log = eventlog.get_logger("x")
            log.info("quiet info")
            log.warning("loud warning")

        lines = _run_with({"console_level": "warning"}, body)
        assert not any("quiet info" in ln for ln in lines)
        assert any("loud warning" in ln for ln in lines)

    def test_a_wording_change_is_one_line(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The run's last banner and the training totals come from the tables in _looks."""
        monkeypatch.setitem(WORDS, "run_done", "🏁 DONE")
        r = Renderer("banner")
        assert "🏁 DONE" == r.render({"event": "run_end", "status": "completed", "duration": 1.0})[1].text
        look = LOOKS["training"]
        monkeypatch.setitem(LOOKS, "training", type(look)(**{**_fields(look), "done": "🎉 FIN {label}"}))
        end = {"event": "phase_end", "phase": "training", "id": 1, "status": "ok", "duration": 5.0}
        assert "🎉 FIN TRAINING" == r.render({**end, "steps_completed": 3})[1].text

    def test_failed_phase_keeps_its_label(self) -> None:
        """A failed phase says which, with the label as written, and the error."""
        r = Renderer("banner")
        ev = {"event": "phase_end", "phase": "initialization", "id": 1, "status": "failed", "duration": 1.0}
        lines = [ln.text for ln in r.render({**ev, "label": "INITIALIZATION - Workers", "error": "E: x"})]
        assert "❌ [META] PHASE FAILED: INITIALIZATION - Workers" == lines[1]
        assert any("Error: E: x" in ln for ln in lines)

    def test_label_with_control_characters_is_escaped(self) -> None:
        """A label is shown as written, but never as a control sequence."""
        r = Renderer("banner")
        lines = r.render({"event": "phase_start", "phase": "initialization", "id": 1, "label": "A\x1b[31mB"})
        assert "\x1b" not in lines[1].text
        assert "\\x1b[31mB" in lines[1].text


def _fields(look: Any) -> dict[str, Any]:
    return {name: getattr(look, name) for name in look.__slots__}


SEED_004 = [  # seed 004's own numbers: an eval, a step's group summary and a group's advantages
    {
        "event": "eval_summary",
        "step": 10,
        "split": "val",
        "total": 100,
        "metrics": {
            "accuracy": 0.85,
            "correct_answers": 85,
            "attempted_answer": 95,
            "found_correct_email": 87,
            "read_correct_email": 82,
            "total_repeated_searches": 15,
            "total_unique_searches": 230,
            "avg_turns_correct": 3.45,
            "num_idk": 5,
            "eval_time": 234.5,
        },
    },
    {
        "event": "group_summary",
        "step": 10,
        "groups_total": 8,
        "groups_kept": 6,
        "groups_filtered": 2,
        "rollouts_total": 48,
        "rollouts_early_exit": 18,
        "rollout_time": 45.3,
        "train_time": 2.1,
        "tokens_total": 45678,
        "tokens_trainable": 12345,
    },
    {
        "event": "group_detail",
        "step": 10,
        "group": 0,
        "turn_advantages": [[0.35, 0.42, 0.8, 1.2], [-0.2, -0.15, 0.3, None]],
        "rewards": [1.0, 0.0],
    },
]


@pytest.mark.parametrize("verbose", [False, True])
def test_seed_004_blocks(verbose: bool, golden: Any) -> None:
    """Seed 004's blocks from its own numbers: concise one-liners, or the verbose statistics and tables."""
    r = Renderer("banner", verbose=verbose, eval_saved=lambda ev: "out/eval_logs/eval_step_0010.json")
    text = "\n".join(ln.text for ev in SEED_004 for ln in r.render(ev)) + "\n"
    golden("console_seed004_verbose" if verbose else "console_seed004_concise", text)
