"""Runs, ranks, resumes and any metric name in the CLI: the shapes pinned by golden files, and the
issue 9 command minors (``--cols loss,loss``, a metric named ``step``, a typed name echoed sanitised).

Inputs are written as JSONL by hand (eventlog's compact encoding), so every value shown is fixed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import cli
from eventlog_cli.commands._steptable import MAX_HEADER, headers


def write(path: Path, events: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.writelines(json.dumps(e, separators=(",", ":"), ensure_ascii=False) + "\n" for e in events)


def run(
    run: str = "demo",
    rank: int = 0,
    t0: float = 1000.0,
    steps: range = range(1, 4),
    metrics: Callable[[int], dict[str, Any]] = lambda s: {"loss": round(1 / s, 4)},
    evals: dict[int, float] | None = None,
    end: dict[str, Any] | None = None,
    seq0: int = 0,
    start: bool = True,
) -> list[dict[str, Any]]:
    """A small run of one process with eventlog's envelope."""
    out: list[dict[str, Any]] = []

    def ev(kind: str, ts: float, **payload: Any) -> None:
        out.append({"v": 1, "ts": ts, "event": kind, "run": run, "rank": rank, "seq": seq0 + len(out), **payload})

    if start:
        ev("run_start", t0, total_steps=max(steps), config={"lr": 1e-6, "seed": rank})
    for s in steps:
        ev("step_metrics", t0 + s, step=s, total_steps=max(steps), metrics=metrics(s))
        if evals and s in evals:
            ev("eval_summary", t0 + s + 0.5, step=s, split="val", total=8, metrics={"accuracy": evals[s]})
    if end is not None:
        ev("run_end", t0 + max(steps) + 1, **end)
    return out


class TestShapes:
    def test_table_of_two_runs_has_a_run_column(self, golden: Any) -> None:
        """Two runs: one table, a run column, each run's rows together."""
        write(Path("a/events.jsonl"), run("alpha"))
        write(Path("b/events.jsonl"), run("beta", t0=1000.5, metrics=lambda s: {"loss": 2.0 + s}))
        result = cli("table", "--cols", "step,loss", "a", "b")
        assert 0 == result.exit_code, result.stderr
        golden("cli_table_two_runs", result.stdout)

    def test_table_of_two_ranks_has_a_rank_column(self, golden: Any) -> None:
        """Two rank files of one run: a rank column, ranks side by side per step."""
        write(Path("ddp/events.jsonl"), run())
        write(Path("ddp/events.rank1.jsonl"), run(rank=1, metrics=lambda s: {"loss": round(1 / s + 0.01, 4)}))
        result = cli("table", "--cols", "step,loss", "ddp")
        assert 0 == result.exit_code, result.stderr
        golden("cli_table_two_ranks", result.stdout)

    def test_resumed_table_marks_the_resume(self, golden: Any) -> None:
        """A resumed run: each step once, the later value, a marker line and a note on stderr."""
        events = run(steps=range(1, 6), metrics=lambda s: {"loss": 1 - 0.1 * s})
        events += run(
            t0=2000.0,
            steps=range(4, 9),
            metrics=lambda s: {"loss": 0.5 - 0.01 * s},
            end={"status": "completed", "duration": 9.0},
        )
        write(Path("resumed/events.jsonl"), events)
        result = cli("table", "--cols", "step,loss", "resumed")
        assert 0 == result.exit_code, result.stderr
        assert "resumed at resumed/events.jsonl:7" in result.stderr
        golden("cli_table_resumed", result.stdout)

    def test_forty_metrics_wrap_into_blocks(self, golden: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        """A table wider than COLUMNS is wrapped into blocks that each repeat the step column."""
        monkeypatch.setenv("COLUMNS", "80")
        names = [f"train/group{i // 10}/metric_{i:02d}" for i in range(40)]
        write(
            Path("wide/events.jsonl"), run(steps=range(1, 3), metrics=lambda s: {n: i + s for i, n in enumerate(names)})
        )
        result = cli("table", "--cols", "step,train/*", "wide")
        assert 0 == result.exit_code, result.stderr
        assert max(len(line) for line in result.stdout.splitlines()) <= 80
        golden("cli_table_wide", result.stdout)

    def test_trend_of_same_named_runs(self, golden: Any) -> None:
        """Two directories that both say run="demo": two columns, labelled by directory."""
        write(Path("seed1/events.jsonl"), run(evals={1: 0.2, 2: 0.4, 3: 0.6}))
        write(Path("seed2/events.jsonl"), run(t0=5000.0, evals={1: 0.3, 2: 0.5, 3: 0.5}))
        result = cli("trend", "accuracy", "seed1", "seed2")
        assert 0 == result.exit_code, result.stderr
        golden("cli_trend_seed_sweep", result.stdout)

    def test_trend_of_ranks_that_differ(self, golden: Any) -> None:
        """A step metric that differs per rank: one series per rank, change within each."""
        write(Path("ddp/events.jsonl"), run())
        write(Path("ddp/events.rank1.jsonl"), run(rank=1, metrics=lambda s: {"loss": round(1 / s + 0.01, 4)}))
        result = cli("trend", "step.loss", "ddp")
        assert 0 == result.exit_code, result.stderr
        golden("cli_trend_two_ranks", result.stdout)

    def test_summary_of_a_failed_multi_rank_run(self, golden: Any) -> None:
        """Two ranks failed: the error shown is the first to fail; timings are rank 0's; config shown."""
        write(Path("ddp/events.jsonl"), run(end={"status": "failed", "error": "NCCL timeout", "duration": 9.0}))
        write(
            Path("ddp/events.rank1.jsonl"),
            run(rank=1, steps=range(1, 3), end={"status": "failed", "error": "CUDA out of memory", "duration": 3.0}),
        )
        result = cli("summary", "ddp")
        assert 0 == result.exit_code, result.stderr
        golden("cli_summary_two_ranks", result.stdout)

    def test_summary_groups_metrics_by_prefix(self, golden: Any) -> None:
        """Every metric, grouped by its first path part; best only where the direction is known."""
        write(
            Path("trl/events.jsonl"),
            run(
                metrics=lambda s: {"train/loss": 1 / s, "rewards/acc/mean": 0.2 * s, "rewards/acc/std": 0.1, "lr": 1e-6}
            ),
        )
        os.utime("trl/events.jsonl", (0, 0))  # written long ago: no run_end means interrupted, not maybe running
        result = cli("summary", "trl")
        assert 0 == result.exit_code, result.stderr
        golden("cli_summary_grouped", result.stdout)

    def test_validate_lines_keep_file_and_line(self, golden: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        """validate prints file:line: problem, whole even at 40 columns."""
        monkeypatch.setenv("COLUMNS", "40")
        write(Path("bad/events.rank1.pid4242.jsonl"), run())
        with open("bad/events.rank1.pid4242.jsonl", "a", encoding="utf-8") as f:
            f.write('{"v":1,"ts":1009.0,"event":"step_metrics","run":"demo","rank":0,"seq":4,"step":"x"}\n')
        result = cli("validate", "bad")
        assert 1 == result.exit_code
        golden("cli_validate_problems", result.stdout)


class TestIssue9Minors:
    def test_repeated_column_shown_once(self) -> None:
        """`table --cols loss,loss` shows loss once instead of a polars DuplicateError traceback."""
        write(Path("r/events.jsonl"), run())
        result = cli("table", "--cols", "step,loss,loss", "--json", "r")
        assert 0 == result.exit_code, result.stderr
        assert [["step", "loss"]] == [list(r) for r in json.loads(result.stdout)[:1]]

    def test_metric_named_step_is_not_the_step(self) -> None:
        """A metric literally named `step` is `metrics.step` in table and `step.step` in trend, not the step."""
        write(Path("r/events.jsonl"), run(metrics=lambda s: {"step": 100 + s, "loss": 1.0}))
        table = cli("table", "--cols", "all", "--json", "r")
        assert 0 == table.exit_code, table.stderr
        assert [(1, 101.0), (2, 102.0), (3, 103.0)] == [
            (r["step"], r["metrics.step"]) for r in json.loads(table.stdout)
        ]
        trend = cli("trend", "step.step", "--json", "r")
        assert [101.0, 102.0, 103.0] == [r["value"] for r in json.loads(trend.stdout)["rows"]]
        text = cli("table", "--cols", "step,metrics.step", "r").stdout
        assert "metrics.step" in text.splitlines()[0]

    def test_typed_metric_name_is_sanitised_in_trend(self) -> None:
        """A metric name with an escape sequence is echoed as a visible escape in trend's header, never raw."""
        write(Path("r/events.jsonl"), run(metrics=lambda s: {"a\x1b[31mb": s}))
        result = cli("trend", "a\x1b[31mb", "r")
        assert 0 == result.exit_code, result.stderr
        assert "\x1b" not in result.stdout
        assert "a\\x1b[31mb" in result.stdout


class TestMore:
    def test_headers_unique_and_short(self) -> None:
        """Headers stay unique; a long name is shortened from the left at / or ."""
        keys = ["rewards/accuracy_reward/mean", "rewards/accuracy_reward/std", "kl", "a" * 40, "a" * 40 + "x"]
        got = headers(keys)
        assert len(set(got)) == len(got)
        assert all(len(h) <= MAX_HEADER for h in got)
        assert ["…accuracy_reward/mean", "…accuracy_reward/std", "kl"] == got[:3]
        assert ["…group0/metric_00", "…group1/metric_10"] == headers(
            ["train/group0/metric_00", "train/group1/metric_10"]
        )

    def test_where_typo_in_a_quoted_key(self) -> None:
        """A quoted key that no event has is a typo: exit 1, the closest name."""
        write(Path("r/events.jsonl"), run(metrics=lambda s: {"rewards/acc/mean": s}))
        result = cli("filter", "--where", 'metrics["rewards/acc/men"] > 1', "r")
        assert 1 == result.exit_code
        assert "did you mean `rewards/acc/mean`" in result.stderr

    def test_rank_that_does_not_exist(self) -> None:
        """`--rank 3` on a two-rank run names the ranks there are."""
        write(Path("ddp/events.jsonl"), run())
        write(Path("ddp/events.rank1.jsonl"), run(rank=1))
        result = cli("table", "--rank", "3", "ddp")
        assert 1 == result.exit_code
        assert "ranks present: 0, 1" in result.stderr

    def test_every_keeps_the_last_step_per_rank(self) -> None:
        """`--every 2` keeps steps 1, 3 and the last (4) of each rank."""
        write(Path("ddp/events.jsonl"), run(steps=range(1, 5)))
        write(Path("ddp/events.rank1.jsonl"), run(rank=1, steps=range(1, 5)))
        result = cli("table", "--every", "2", "--cols", "step", "--json", "ddp")
        assert [(0, 1), (0, 3), (0, 4), (1, 1), (1, 3), (1, 4)] == sorted(
            (r["rank"], r["step"]) for r in json.loads(result.stdout)
        )

    def test_summary_declared_direction(self) -> None:
        """`summary --lower-better lr` gives lr a best; without it lr has none."""
        write(Path("r/events.jsonl"), run(metrics=lambda s: {"lr": 1e-6 * s}))
        plain = json.loads(cli("summary", "--json", "r").stdout)["runs"][0]["metrics"]
        declared = json.loads(cli("summary", "--json", "--lower-better", "lr", "r").stdout)["runs"][0]["metrics"]
        assert [(None, None)] == [(m["best"], m["best_step"]) for m in plain]
        assert [(1e-6, 1)] == [(m["best"], m["best_step"]) for m in declared]

    def test_version(self) -> None:
        """--version prints the package version."""
        import eventlog

        result = cli("--version")
        assert 0 == result.exit_code
        assert eventlog.__version__ in result.stdout

    def test_groups_and_samples_name_the_rank(self) -> None:
        """Several ranks: `groups` gets a rank column and each sample says its rank."""
        for rank in (0, 1):
            envelope = {"v": 1, "run": "demo", "rank": rank}
            events = [
                *run(rank=rank),
                {**envelope, "ts": 1009.0, "event": "group_summary", "seq": 90, "step": 3, "groups_total": 4},
                {**envelope, "ts": 1009.5, "event": "sample", "seq": 91, "step": 3, "output": f"rank {rank}"},
            ]
            write(Path("ddp") / ("events.jsonl" if rank == 0 else "events.rank1.jsonl"), events)
        groups = cli("groups", "ddp")
        assert 0 == groups.exit_code, groups.stderr
        assert "rank" == groups.stdout.split()[0]
        samples = cli("samples", "ddp")
        heads = [ln.removeprefix("── ").split(" · ")[0] for ln in samples.stdout.splitlines() if ln.startswith("──")]
        assert ["rank 0", "rank 1"] == heads


class TestSlimRows:
    """The text table reads most columns a column at a time and keeps only a few per row: the same text."""

    @pytest.mark.parametrize(
        "cols",
        [None, "step,loss", "all", "step,epoch,total_steps,loss", "metrics.step,loss", "step_denom,step,loss"],
    )
    @pytest.mark.parametrize("paths", [["a", "b"], ["a"]])  # one run: no run column, the marker still finds it
    def test_same_text_as_with_whole_rows(
        self, monkeypatch: pytest.MonkeyPatch, cols: str | None, paths: list[str]
    ) -> None:
        from eventlog_cli.commands import table as table_module

        odd = {"step": 7.0, "total_steps": 100, "step_denom": 9, "epoch_denom": 3}  # names the step/epoch cells read

        def metrics(s: int) -> dict[str, Any]:
            return {"loss": round(1 / s, 4), **odd}

        events = run(steps=range(1, 6), metrics=metrics)
        events += run(t0=2000.0, steps=range(4, 8), metrics=metrics)  # resumed: a marker line
        for e in events:
            if e["event"] == "step_metrics":
                e["epoch"] = e["step"] / 4
        write(Path("a/events.jsonl"), events)
        write(Path("b/events.jsonl"), run("beta", t0=1000.5, metrics=metrics))
        args = ["table", *(["--cols", cols] if cols else []), *paths]
        slim = cli(*args)
        monkeypatch.setattr(table_module, "_slim_rows", lambda frame, keys, lead: frame.to_dicts())
        whole = cli(*args)
        assert slim.exit_code == whole.exit_code == 0, slim.stderr
        assert slim.stdout == whole.stdout
        assert "resumed here" in slim.stdout
