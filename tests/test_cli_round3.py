"""The CLI leftovers of issues 10, 13 and 14: ``--rank`` on the visual commands, one run-label rule,
integers kept integers, bare-NaN lines under ``replay --follow``, eval splits kept apart, TRL/HF/verl
default columns, one "numbers vs text" split. Each test failed before its fix.

Inputs are written as JSONL by hand, so every value shown is fixed.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_cli_runs import write
from typer.testing import CliRunner

from conftest import cli
from eventlog_cli._app import app

ROOT = Path(__file__).parent.parent


def run(
    run: str = "demo",
    rank: int = 0,
    t0: float = 1000.0,
    steps: range = range(1, 4),
    metrics: Callable[[int], dict[str, Any]] = lambda s: {"loss": round(1 / s, 4)},
    evals: list[tuple[int, str, dict[str, Any]]] = (),  # type: ignore[assignment]
    end: bool = True,
) -> list[dict[str, Any]]:
    """A small run of one process with eventlog's envelope: a training phase, steps, evals, run_end."""
    out: list[dict[str, Any]] = []

    def ev(kind: str, ts: float, **payload: Any) -> None:
        out.append({"v": 1, "ts": ts, "event": kind, "run": run, "rank": rank, "seq": len(out), **payload})

    ev("run_start", t0, total_steps=max(steps), config={"lr": 1e-6, "seed": rank})
    ev("phase_start", t0, phase="training", id=1, total_steps=max(steps))
    for s in steps:
        ev("step_metrics", t0 + s, step=s, total_steps=max(steps), metrics=metrics(s))
        for at, split, m in evals:
            if at == s:
                ev("eval_summary", t0 + s + 0.5, step=s, split=split, total=8, metrics=m)
    ev("phase_end", t0 + max(steps) + 0.5, phase="training", id=1, status="ok", duration=max(steps) + 0.5)
    if end:
        ev("run_end", t0 + max(steps) + 1, status="completed", duration=max(steps) + 1.0)
    return out


def ddp(root: Path, rank1_loss: float = 9.0) -> None:
    """Two rank files of one run: rank 1's loss is ``rank1_loss`` at every step."""
    write(root / "events.jsonl", run())
    write(root / "events.rank1.jsonl", run(rank=1, metrics=lambda s: {"loss": rank1_loss + s}))


# --- 1. --rank on report, compare, plot, watch --------------------------------------------


class TestRankOnVisualCommands:
    def test_compare_defaults_to_rank_0_and_takes_rank(self) -> None:
        ddp(Path("a"))
        ddp(Path("b"), rank1_loss=20.0)
        data = json.loads(cli("compare", "--json", "a", "b").stdout)
        loss = [m for m in data["metrics"] if m["metric"] == "step.loss"]
        assert [0.3333, 0.3333] == [m["final"] for m in loss]  # rank 0's, not whichever rank came last
        result = cli("compare", "--json", "--rank", "1", "a", "b")
        assert 0 == result.exit_code, result.output
        loss = [m for m in json.loads(result.stdout)["metrics"] if m["metric"] == "step.loss"]
        assert [12.0, 23.0] == [m["final"] for m in loss]

    def test_compare_phase_times_are_one_rank(self) -> None:
        ddp(Path("a"))
        ddp(Path("b"))
        data = json.loads(cli("compare", "--json", "a", "b").stdout)
        training = next(p for p in data["phases"] if p["phase"] == "training")
        assert [1, 1] == [c["runs"] for c in training["runs"]]  # not one per rank
        assert all(c["share"] <= 1.0 for c in training["runs"])

    @pytest.mark.parametrize(
        "args",
        [
            ("compare", "a", "b"),
            ("report", "a", "b", "--out", "r.html"),
            ("plot", "loss", "a", "b", "--out", "p.svg"),
        ],
    )
    def test_an_absent_rank_lists_the_ranks(self, args: tuple[str, ...]) -> None:
        ddp(Path("a"))
        ddp(Path("b"))
        result = cli(*args, "--rank", "3")
        assert 1 == result.exit_code, result.output
        assert "no events of rank 3" in result.stderr and "0, 1" in result.stderr
        assert "Traceback" not in result.output

    def test_plot_and_report_take_a_rank(self) -> None:
        ddp(Path("a"))
        assert 0 == cli("plot", "loss", "a", "--rank", "1", "--out", "p.svg").exit_code
        result = cli("report", "a", "--rank", "1", "--out", "r.html")
        assert 0 == result.exit_code, result.output
        page = Path("r.html").read_text(encoding="utf-8")
        assert "12" in page

    def test_watch_shows_the_rank_asked_for(self) -> None:
        ddp(Path("a"))
        default = cli("watch", "--once", "a")
        assert "0.3333" in default.stdout and "12" not in default.stdout
        result = cli("watch", "--once", "--rank", "1", "a")
        assert 0 == result.exit_code, result.output
        assert "12" in result.stdout and "0.3333" not in result.stdout
        absent = cli("watch", "--once", "--rank", "5", "a")
        assert "no events of rank 5 yet; ranks seen: 0, 1" in absent.stdout


# --- 2. one run-label rule -------------------------------------------------------------------


class TestOneLabelRule:
    def sweep(self) -> None:
        write(Path("seed1/events.jsonl"), run(evals=[(3, "val", {"accuracy": 0.6})]))
        write(Path("seed2/events.jsonl"), run(t0=5000.0, evals=[(3, "val", {"accuracy": 0.5})]))

    def test_compare_labels_same_named_runs_by_directory(self) -> None:
        self.sweep()
        data = json.loads(cli("compare", "--json", "seed1", "seed2").stdout)
        assert ["seed1", "seed2"] == [r["label"] for r in data["runs"]]

    def test_a_glob_of_same_named_runs_is_two_runs(self) -> None:
        """One path argument holding two directories of run="demo": two runs, not one merged."""
        self.sweep()
        data = json.loads(cli("compare", "--json", "seed*").stdout)
        assert ["seed1", "seed2"] == [r["label"] for r in data["runs"]]

    def test_every_command_names_the_runs_alike(self) -> None:
        self.sweep()
        trend = json.loads(cli("trend", "accuracy", "--json", "seed1", "seed2").stdout)
        table = json.loads(cli("table", "--json", "seed1", "seed2").stdout)
        summary = json.loads(cli("summary", "--json", "seed1", "seed2").stdout)
        compare = json.loads(cli("compare", "--json", "seed1", "seed2").stdout)
        labels = {
            "trend": sorted({r["run"] for r in trend["rows"]}),
            "table": sorted({r["run"] for r in table}),
            "summary": sorted(r["run"] for r in summary["runs"]),
            "compare": sorted(r["label"] for r in compare["runs"]),
        }
        assert all(v == ["seed1", "seed2"] for v in labels.values()), labels

    def test_same_directory_names_take_the_path_tail(self) -> None:
        """a/demo and b/demo, both run="demo": the shortest path tail that tells them apart, in every command."""
        write(Path("a/demo/events.jsonl"), run(evals=[(3, "val", {"accuracy": 0.6})]))
        write(Path("b/demo/events.jsonl"), run(evals=[(3, "val", {"accuracy": 0.5})]))
        trend = json.loads(cli("trend", "accuracy", "--json", "a/demo", "b/demo").stdout)
        compare = json.loads(cli("compare", "--json", "a/demo", "b/demo").stdout)
        assert ["a/demo", "b/demo"] == [r["run"] for r in trend["rows"]]
        assert ["a/demo", "b/demo"] == [r["label"] for r in compare["runs"]]

    def test_stdin_is_labelled_as_stdin(self) -> None:
        """A run read from - beside a same-named run: labelled -, not the working directory's name."""
        self.sweep()
        text = Path("seed1/events.jsonl").read_text(encoding="utf-8")
        result = CliRunner().invoke(app, ["compare", "--json", "-", "seed2"], input=text)
        assert ["-", "seed2"] == [r["label"] for r in json.loads(result.stdout)["runs"]]

    def test_runs_with_distinct_names_keep_their_names(self) -> None:
        write(Path("x/events.jsonl"), run("alpha"))
        write(Path("y/events.jsonl"), run("beta"))
        data = json.loads(cli("compare", "--json", "x", "y").stdout)
        assert ["alpha", "beta"] == [r["label"] for r in data["runs"]]


# --- 3. no private imports across query modules ----------------------------------------------


def test_no_module_imports_a_private_name_of_another() -> None:
    """rundata imported ``_warnings`` from summary: what two modules share is public."""
    found = []
    for path in sorted((ROOT / "cli" / "eventlog_cli").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("eventlog_cli"):
                found += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert [] == found


# --- 4. integers stay integers -----------------------------------------------------------------


class TestIntegersStayIntegers:
    def counts(self) -> None:
        write(
            Path("c/events.jsonl"),
            run(
                metrics=lambda s: {"loss": round(1 / s, 4), "tokens": 100 * s},
                evals=[(3, "val", {"accuracy": 0.9333, "correct_answers": 224, "total_samples": 240})],
            ),
        )

    def test_eval_json_and_csv(self) -> None:
        self.counts()
        text = cli("eval", "--json", "c").stdout
        assert '"correct_answers": 224,' in text and "224.0" not in text
        data = json.loads(text)
        assert (224, 240, 0.9333) == (data["correct_answers"], data["total_samples"], data["accuracy"])
        assert type(data["correct_answers"]) is int
        csv = cli("eval", "--csv", "c").stdout
        assert "correct_answers,224\n" in csv and "224.0" not in csv

    def test_table_summary_trend_compare(self) -> None:
        self.counts()
        write(Path("d/events.jsonl"), run(metrics=lambda s: {"loss": 0.5, "tokens": 10 * s}))
        table = json.loads(cli("table", "--json", "--cols", "step,tokens,loss", "c").stdout)
        assert [100, 200, 300] == [r["tokens"] for r in table]
        assert all(type(r["tokens"]) is int for r in table)
        assert "300.0" not in cli("table", "--csv", "--cols", "step,tokens", "c").stdout
        summary = json.loads(cli("summary", "--json", "c").stdout)["runs"][0]["metrics"]
        last = {m["metric"]: m["last"] for m in summary}
        assert type(last["eval.correct_answers"]) is int and type(last["step.tokens"]) is int
        trend = json.loads(cli("trend", "step.tokens", "--json", "c").stdout)
        assert all(type(r["value"]) is int for r in trend["rows"])
        compare = json.loads(cli("compare", "--json", "c", "d").stdout)
        tokens = [m for m in compare["metrics"] if m["metric"] == "step.tokens"]
        assert [300, 30] == [m["final"] for m in tokens] and type(tokens[0]["final"]) is int

    def test_a_column_with_any_float_stays_float(self) -> None:
        write(Path("f/events.jsonl"), run(metrics=lambda s: {"x": 1 if s < 3 else 1.5}))
        table = json.loads(cli("table", "--json", "--cols", "step,x", "f").stdout)
        assert [1.0, 1.0, 1.5] == [r["x"] for r in table]
        assert all(type(r["x"]) is float for r in table)


# --- 5. replay --follow reads bare-NaN lines ---------------------------------------------------


def test_follow_reads_a_bare_nan_line() -> None:
    path = Path("f/events.jsonl")
    events = run(end=False)
    write(path, events[:3])  # run_start, phase_start, step 1
    exe = str(Path(sys.executable).with_name("eventlog"))
    p = subprocess.Popen(
        [exe, "replay", "--follow", "--until-end", "--style", "compact", "f"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None
    try:
        seen = ""
        deadline = time.monotonic() + 60
        while "1/3" not in seen and time.monotonic() < deadline:  # the first read is over: step 1 is shown
            seen += p.stdout.readline()
        nan = {"v": 1, "ts": 1002.0, "event": "step_metrics", "run": "demo", "rank": 0, "seq": 3}
        nan |= {"step": 2, "total_steps": 3, "metrics": {"loss": float("nan")}}
        end = {"v": 1, "ts": 1003.0, "event": "run_end", "run": "demo", "rank": 0, "seq": 4, "status": "completed"}
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(nan) + "\n")  # json.dumps: the bare token NaN
            f.write("{damaged\n")  # not an event at all: named on stderr
            f.write(json.dumps(end) + "\n")
        out, err = p.communicate(timeout=60)
    finally:
        p.kill()
    lines = (seen + out).splitlines()
    assert any(ln.split()[:1] == ["2/3"] for ln in lines), seen + out + err
    assert "f/events.jsonl:5: not valid JSON" in err


# --- 6. eval splits are never mixed ------------------------------------------------------------


def two_splits(root: Path) -> None:
    write(
        root / "events.jsonl",
        run(
            evals=[
                (1, "val", {"accuracy": 0.5}),
                (1, "test", {"accuracy": 0.25}),
                (3, "val", {"accuracy": 0.75}),
                (3, "test", {"accuracy": 0.5}),
            ]
        ),
    )


class TestSplits:
    def test_trend_shows_each_split(self, golden: Any) -> None:
        two_splits(Path("s"))
        data = json.loads(cli("trend", "accuracy", "--json", "s").stdout)
        got = sorted((r["split"], r["step"], r["value"]) for r in data["rows"])
        assert [("test", 1, 0.25), ("test", 3, 0.5), ("val", 1, 0.5), ("val", 3, 0.75)] == got
        result = cli("trend", "accuracy", "s")
        assert 0 == result.exit_code, result.output
        golden("cli_trend_splits", result.stdout)

    def test_trend_split_option(self) -> None:
        two_splits(Path("s"))
        data = json.loads(cli("trend", "accuracy", "--split", "test", "--json", "s").stdout)
        assert [(1, 0.25), (3, 0.5)] == [(r["step"], r["value"]) for r in data["rows"]]
        result = cli("trend", "accuracy", "--split", "tset", "s")
        assert 1 == result.exit_code
        assert "test" in result.stderr and "val" in result.stderr

    def test_summary_shows_each_split(self) -> None:
        two_splits(Path("s"))
        metrics = json.loads(cli("summary", "--json", "s").stdout)["runs"][0]["metrics"]
        evals = {(m["metric"], m.get("split")): (m["last"], m["best"]) for m in metrics if m["metric"][:5] == "eval."}
        assert {("eval.accuracy [val]", "val"): (0.75, 0.75), ("eval.accuracy [test]", "test"): (0.5, 0.5)} == evals
        text = cli("summary", "s").stdout
        assert "accuracy [val]" in text and "accuracy [test]" in text

    def test_summary_split_option(self) -> None:
        two_splits(Path("s"))
        metrics = json.loads(cli("summary", "--json", "--split", "val", "s").stdout)["runs"][0]["metrics"]
        assert [("eval.accuracy", 0.75)] == [(m["metric"], m["last"]) for m in metrics if m["metric"][:5] == "eval."]

    def test_one_split_keeps_the_plain_names(self) -> None:
        write(Path("v/events.jsonl"), run(evals=[(3, "val", {"accuracy": 0.5})]))
        metrics = json.loads(cli("summary", "--json", "v").stdout)["runs"][0]["metrics"]
        assert "eval.accuracy" in [m["metric"] for m in metrics]
        rows = json.loads(cli("trend", "accuracy", "--json", "v").stdout)["rows"]
        assert "split" not in rows[0]


# --- 7. default table columns for TRL / HF / verl names ---------------------------------------


TRL = lambda s: {  # noqa: E731
    "loss": round(0.01 * s, 4),
    "grad_norm": round(0.5 + s / 10, 3),
    "learning_rate": 1e-6 * (4 - s),
    "rewards/accuracy_reward/mean": 0.25 * s,
    "rewards/format_reward/mean": 1.0,
    "reward": 0.25 * s + 1.0,
    "reward_std": 0.4,
    "completions/mean_length": 100.0 + 10 * s,
    "kl": 0.001 * s,
    "entropy": round(1.2 - 0.1 * s, 3),
    "frac_reward_zero_std": 0.5,
}


class TestDefaultColumns:
    def test_a_trl_run(self, golden: Any) -> None:
        write(Path("trl/events.jsonl"), run(metrics=TRL))
        result = cli("table", "trl")
        assert 0 == result.exit_code, result.output
        head = result.stdout.splitlines()[0].split()
        assert {"reward", "loss", "kl", "gnorm", "lr"} <= set(head), head
        assert max(len(line) for line in result.stdout.splitlines()) <= 100
        golden("cli_table_trl", result.stdout)

    def test_a_verl_run(self) -> None:
        verl = lambda s: {  # noqa: E731
            "critic/score/mean": 0.1 * s,
            "actor/pg_loss": -0.01 * s,
            "actor/entropy": 0.9,
            "actor/grad_norm": 0.3,
            "actor/lr": 1e-6,
            "response_length/mean": 300.0,
            "actor/kl_loss": 0.002,
        }
        write(Path("verl/events.jsonl"), run(metrics=verl))
        table = json.loads(cli("table", "--json", "verl").stdout)
        assert {"critic/score/mean", "actor/pg_loss", "actor/grad_norm", "response_length/mean"} <= set(table[0])

    def test_two_names_of_one_role_keep_unique_headers(self) -> None:
        write(Path("trl/events.jsonl"), run(metrics=lambda s: {**TRL(s), "reward_mean": 0.3}))
        head = cli("table", "--cols", "step,reward_mean,reward", "trl").stdout.splitlines()[0].split()
        assert ["step", "reward_mean", "reward"] == head

    def test_the_demo_columns_are_unchanged(self) -> None:
        write(Path("g/events.jsonl"), run(metrics=lambda s: {"reward_mean": 0.5, "loss": 1.0, "kl": 0.1}))
        head = cli("table", "g").stdout.splitlines()[0].split()
        assert ["step", "ep", "reward", "loss", "kl", "time"] == head


# --- 8. one "numbers vs text" split -------------------------------------------------------------


def test_one_numbers_and_text_split() -> None:
    from eventlog.integrations._common import numbers_and_text

    values = {"loss": 0.5, "epoch": 1.0, "flag": True, "note": "hi", "ids": [1, 2]}
    numbers, text = numbers_and_text(values, skip=("epoch",))
    assert {"loss": 0.5, "flag": 1} == numbers
    assert {"note": "hi", "ids": "[1, 2]"} == text
    for rel in ("cli/eventlog_cli/importers/hf.py", "eventlog/integrations/transformers.py"):
        source = (ROOT / rel).read_text(encoding="utf-8")
        assert "numbers_and_text(" in source, rel
        assert "if n is False:" not in source, rel  # the loop itself lives in _common only


def test_watch_reads_a_bare_nan_line() -> None:
    """watch shares the reading rule: a json.dumps NaN line is an event (its NaN named), not 'not JSON'."""
    from eventlog_cli.query.watch import WatchState

    state = WatchState()
    line = {"v": 1, "ts": 1.0, "event": "step_metrics", "run": "x", "rank": 0, "seq": 0, "step": 1}
    state.feed_line(json.dumps(line | {"metrics": {"loss": float("nan")}}).encode(), "f/events.jsonl", 0.0)
    assert [1] == [r["step"] for r in state.steps]
    assert ["step 1: loss is nan"] == list(state.warnings)


def test_compare_keeps_splits_apart() -> None:
    two_splits(Path("a"))
    two_splits(Path("b"))
    data = json.loads(cli("compare", "--json", "a", "b").stdout)
    finals = {m["metric"]: m["final"] for m in data["metrics"] if m["run"] == "a"}
    assert (0.75, 0.5) == (finals["eval.accuracy [val]"], finals["eval.accuracy [test]"])
    by_step = {e["metric"]: [r["values"][0] for r in e["rows"]] for e in data["evals"]}
    assert {"accuracy [val]": [0.5, 0.75], "accuracy [test]": [0.25, 0.5]} == by_step


def test_eval_takes_a_split() -> None:
    two_splits(Path("s"))
    assert ("val", 0.75) == tuple(
        json.loads(cli("eval", "--json", "--split", "val", "s").stdout)[k] for k in ("split", "accuracy")
    )
    assert ("test", 0.5) == tuple(
        json.loads(cli("eval", "--json", "--split", "test", "s").stdout)[k] for k in ("split", "accuracy")
    )


def test_an_integer_epoch_stays_an_integer() -> None:
    """A field that may be fractional (epoch) is an integer where every value is written as one."""
    events = run()
    for ev in events:
        if ev["event"] == "step_metrics":
            ev["epoch"] = 1
    write(Path("e/events.jsonl"), events)
    rows = json.loads(cli("table", "--json", "--cols", "step,epoch", "e").stdout)
    assert [1, 1, 1] == [r["epoch"] for r in rows] and all(type(r["epoch"]) is int for r in rows)
    write(Path("h/events.jsonl"), [dict(e, epoch=0.5) if e["event"] == "step_metrics" else e for e in run()])
    assert [0.5, 0.5, 0.5] == [r["epoch"] for r in json.loads(cli("table", "--json", "h").stdout)]


def test_trend_csv_names_the_split_and_rank() -> None:
    """The CSV had only run,step,value...: two splits (or ranks) at one step were indistinguishable rows."""
    two_splits(Path("s"))
    lines = cli("trend", "accuracy", "--csv", "s").stdout.splitlines()
    assert "run,split,step,value,change,best" == lines[0]
    assert "demo,test,1,0.25,,False" in lines
    ddp(Path("d"))
    assert cli("trend", "step.loss", "--csv", "d").stdout.startswith("run,rank,step,value,change,best\n")
