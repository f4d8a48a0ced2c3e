"""Acceptance tests for issue #10: read every real run correctly (any JSON writer, ranks, runs, metric names).

Every test runs the real ``eventlog`` command in a subprocess and builds its input either with the public
library API or by writing JSONL text the way other writers do. Nothing private is imported, so these tests
survive the restructure of ``eventlog/_*.py`` and ``cli/eventlog_cli/``.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import eventlog

ROOT = Path(__file__).parent.parent

# --- running the command -------------------------------------------------------------------------------


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


_OUTER = ("NO_COLOR", "FORCE_COLOR", "RANK", "LOCAL_RANK", "SLURM_PROCID", "WORLD_SIZE")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without colour, rank or EVENTLOG_* settings (but strict mode), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _OUTER and not k.startswith("EVENTLOG_")}
    return {**env, "EVENTLOG_STRICT": "1", "LINES": "50", **extra}


def cli(
    *args: str, cwd: Path | None = None, stdin: bytes | None = None, columns: int = 100, timeout: float = 60
) -> Result:
    """Run ``eventlog ARGS`` as a real process (stdout is a pipe: plain text, ``COLUMNS`` wide)."""
    proc = subprocess.run(
        [sys.executable, "-c", "from eventlog_cli import main; main()", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
        env=clean_env(COLUMNS=str(columns)),
    )
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


def cli_many(calls: Sequence[tuple[Sequence[str], Path]]) -> list[Result]:
    """Several ``(args, cwd)`` runs in parallel (the answers, in order)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda c: cli(*c[0], cwd=c[1]), calls))


def popen(*args: str, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from eventlog_cli import main; main()", *args],
        cwd=cwd,
        env=clean_env(COLUMNS="100"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )


# --- writing runs by hand --------------------------------------------------------------------------------


def ev(event: str, ts: float, seq: int, *, run: str = "demo", rank: int = 0, **payload: Any) -> dict[str, Any]:
    """One event with eventlog's envelope (v, ts, event, run, rank, seq) first, as eventlog writes it."""
    return {"v": 1, "ts": ts, "event": event, "run": run, "rank": rank, "seq": seq, **payload}


def compact(e: dict[str, Any]) -> str:
    return json.dumps(e, separators=(",", ":"), ensure_ascii=False)


def write_jsonl(path: Path, events: Sequence[dict[str, Any]], dumps: Callable[[dict[str, Any]], str] = compact) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.writelines(dumps(e) + "\n" for e in events)
    return path


class Seq:
    """Envelope factory for one process: seq numbers counted, ts given."""

    def __init__(self, run: str = "demo", rank: int = 0) -> None:
        self.run, self.rank, self.n = run, rank, 0

    def __call__(self, event: str, ts: float, **payload: Any) -> dict[str, Any]:
        e = ev(event, ts, self.n, run=self.run, rank=self.rank, **payload)
        self.n += 1
        return e


def simple_run(
    run: str = "demo",
    rank: int = 0,
    *,
    t0: float = 1000.0,
    steps: Sequence[int] = (1, 2, 3, 4),
    metrics: Callable[[int], dict[str, Any]] = lambda s: {"loss": round(1.0 / s, 4), "kl": 0.01 * s},
    evals: dict[int, float] | None = None,
    status: str | None = "completed",
    error: str | None = None,
    end_ts: float | None = None,
    config: dict[str, Any] | None = None,
    checkpoint_at: int | None = None,
    extra: Callable[[Seq, float], list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """A small run of one process: run_start, a training phase with steps and evals, run_end."""
    s = Seq(run, rank)
    out = [s("run_start", t0, **({"config": config} if config is not None else {}), total_steps=max(steps))]
    out.append(s("phase_start", t0 + 0.5, phase="training", id=1, total_steps=max(steps)))
    ts = t0 + 1
    for step in steps:
        out.append(s("phase_start", ts, phase="training_step", id=100 + step, parent=1, step=step))
        out.append(s("step_metrics", ts + 0.5, step=step, total_steps=max(steps), metrics=metrics(step)))
        out.append(s("phase_end", ts + 0.9, phase="training_step", id=100 + step, status="ok", duration=0.9))
        ts += 1
        if evals and step in evals:
            out.append(s("eval_summary", ts, step=step, split="val", total=8, metrics={"accuracy": evals[step]}))
            ts += 0.5
    if extra is not None:
        out += extra(s, ts)
        ts += 0.5
    if checkpoint_at is not None:
        out.append(s("checkpoint", ts, step=checkpoint_at, path=f"ckpt/step_{checkpoint_at}.pt", size_bytes=2048))
        ts += 0.5
    out.append(
        s(
            "phase_end",
            ts,
            phase="training",
            id=1,
            status="ok" if status != "failed" else "failed",
            duration=ts - t0 - 0.5,
        )
    )
    if status is not None:
        end = end_ts if end_ts is not None else ts + 0.5
        out.append(s("run_end", end, status=status, duration=end - t0, **({"error": error} if error else {})))
    return out


def summaries(data: Any) -> list[dict[str, Any]]:
    """The per-run summary objects of ``summary --json``, whatever the stable shape chosen (list or {"runs": [...]})."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("runs"), list):
        return data["runs"]
    return [data]


def trend_rows(data: Any) -> list[dict[str, Any]]:
    return data["rows"] if isinstance(data, dict) else data


def numbers(data: Any) -> list[float]:
    """Every number anywhere in a JSON value."""
    if isinstance(data, dict):
        return [x for v in data.values() for x in numbers(v)]
    if isinstance(data, list):
        return [x for v in data for x in numbers(v)]
    return [data] if isinstance(data, (int, float)) and not isinstance(data, bool) else []


def table_rows(data: Any) -> list[dict[str, Any]]:
    return data["rows"] if isinstance(data, dict) else data


# --- 1. Any valid JSON line is an event ------------------------------------------------------------------

_BUILD = r"""
import sys
import eventlog

eventlog.init(sys.argv[1], run="demo", config={"lr": 1e-6, "model": "tiny/ö"}, console="off")
with eventlog.phase("initialization"):
    pass

def validation(name, step, acc):
    with eventlog.phase(name, step=step), eventlog.phase(
        "validation", total_batches=2, total_questions=8, batch_size=4
    ) as v:
        v.val_batch(1, questions=4, avg_reward=acc)
        eventlog.emit("sample", step=step, split="val", index=0, prompt="Was ist 2 + 2? «ü» \"quoted\" \\ back",
                      output="<think>2 + 2</think> Die Antwort ist 5. é/ü", golden=["4"], extracted="5",
                      reward=0.0, correct=False)
        v.val_batch(2, questions=8, avg_reward=acc)
        v.summary(questions=8, avg_reward=acc)
        eventlog.emit("eval_summary", step=step, split="val", total=8,
                      metrics={"accuracy": acc, "reward_mean": acc, "rewards/format/mean": 1.0})

validation("pre_training_validation", 0, 0.25)
with eventlog.phase("training", total_steps=4, total_epochs=2) as tr:
    for step in range(1, 5):
        with tr.step_phase(step, epoch=(step + 1) // 2):
            metrics = {"loss": 0.5 / step, "kl": 0.01 * step, "reward_mean": 0.2 * step,
                       "rewards/accuracy_reward/mean": 0.1 * step, "lr.scheduled": 1e-6 * step}
            if step == 3:
                metrics["loss"] = float("nan")
            eventlog.emit("group_summary", step=step, groups_total=4, groups_kept=3, groups_filtered=1,
                          rollouts_total=16, rollouts_early_exit=2, rollout_time=1.5, train_time=0.5,
                          tokens_total=1000, tokens_trainable=750)
            eventlog.emit("group_detail", step=step, group=0, rewards=[1.0, 0.0],
                          turn_advantages=[[0.5, 0.25], [-0.5, None]])
            if step == 2:
                eventlog.get_logger("train").warning("observation too long", length=9000)
            eventlog.emit("step_metrics", step=step, epoch=(step + 1) // 2, total_epochs=2, total_steps=4,
                          metrics=metrics, timing={"step": 2.0})
        if step == 2:
            validation("periodic_validation", 2, 0.5)
    with eventlog.checkpoint(4, "ckpt/step_4.pt"):
        pass
validation("post_training_validation", 4, 0.75)
eventlog.finish()
"""


def _default_separators(e: dict[str, Any]) -> str:
    """Python's json.dumps as-is: ", " and ": " separators, non-ASCII as \\uXXXX escapes."""
    return json.dumps(e)


def _sorted_escaped(e: dict[str, Any]) -> str:
    """Keys sorted (top level: "event" is no longer third), compact, "/" as "\\/", "_" in the type as \\u005f.

    Nested objects keep their order: the order of metric names is the writer's, and may show in the output.
    """
    text = json.dumps({k: e[k] for k in sorted(e)}, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/")
    kind = json.dumps(e["event"])
    return text.replace(f'"event":{kind}', '"event":' + kind.replace("_", "\\u005f"))


_VARIANTS = {"default_separators": _default_separators, "sorted_escaped": _sorted_escaped}

_COMMANDS: list[tuple[str, ...]] = [
    ("phases", "--json"),
    ("table",),
    ("trend", "accuracy"),
    ("trend", "step.loss", "--json"),
    ("summary", "--json"),
    ("groups", "--json"),
    ("eval", "--json"),
    ("filter", "--event", "step_metrics", "--where", "metrics.kl > 0.015"),
    ("replay", "--style", "compact", "-v"),
    ("validate", "--json"),
]


@pytest.fixture(scope="module")
def written_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Result]]:
    """A run written by eventlog itself (compact JSONL), and every command's answer on it."""
    root = tmp_path_factory.mktemp("compact")
    done = subprocess.run(
        [sys.executable, "-c", _BUILD, "run"], cwd=root, env=clean_env(), capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    answers = cli_many([((*cmd, "run"), root) for cmd in _COMMANDS])
    return root, answers


def _same_answer(cmd: tuple[str, ...], want: Result, got: Result) -> str | None:
    """Why two answers differ (None when the same): text byte for byte, JSON/JSONL as values."""
    if (want.code, want.err) != (got.code, got.err):
        return f"exit {want.code}/{got.code}, stderr {want.err!r} / {got.err!r}"
    if "--json" in cmd or cmd[0] == "filter":
        a = [json.loads(x) for x in want.out.splitlines() if x.strip()] if cmd[0] == "filter" else json.loads(want.out)
        b = [json.loads(x) for x in got.out.splitlines() if x.strip()] if cmd[0] == "filter" else json.loads(got.out)
        return None if a == b else f"JSON differs:\n{want.out}\n---\n{got.out}"
    return None if want.out == got.out else f"output differs:\n{want.out}\n---\n{got.out}"


class TestAnyJsonWriter:
    @pytest.mark.parametrize("variant", list(_VARIANTS))
    def test_every_command_gives_the_same_answer(
        self, variant: str, written_run: tuple[Path, list[Result]], tmp_path: Path
    ) -> None:
        """Item 1: a run re-encoded by another writer gives the same answer as the compact file in every command."""
        root, answers = written_run
        assert [0] * len(_COMMANDS) == [a.code for a in answers], [a.err for a in answers]
        for src in (root / "run").glob("*.jsonl"):
            events = [json.loads(x) for x in src.read_text(encoding="utf-8").splitlines() if x.strip()]
            write_jsonl(tmp_path / "run" / src.name, events, _VARIANTS[variant])
        if (root / "run" / "eval_logs").is_dir():  # the eval stats files belong to the run (issue 11)
            shutil.copytree(root / "run" / "eval_logs", tmp_path / "run" / "eval_logs")
        got = cli_many([((*cmd, "run"), tmp_path) for cmd in _COMMANDS])
        problems = [
            f"{' '.join(cmd)}: {why}"
            for cmd, a, b in zip(_COMMANDS, answers, got, strict=True)
            if (why := _same_answer(cmd, a, b)) is not None
        ]
        assert not problems, "\n\n".join(problems)

    def test_trend_on_python_json_dumps_file(self, tmp_path: Path) -> None:
        """Item 1: `trend accuracy` on a json.dumps file finds the eval metric instead of "no metric 'accuracy'"."""
        events = simple_run(evals={2: 0.25, 4: 0.75})
        write_jsonl(tmp_path / "b" / "events.jsonl", events, _default_separators)
        got = cli("trend", "accuracy", "--json", "b", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert [(2, 0.25, False), (4, 0.75, True)] == [(r["step"], r["value"], r["best"]) for r in trend_rows(got.json)]

    def test_seq_gap_seen_in_any_encoding(self, tmp_path: Path) -> None:
        """Item 1: the pre-filter never changes an answer: a seq gap is reported for a json.dumps file too."""
        events = simple_run()
        del events[3]  # one event lost: seq 3 is missing
        write_jsonl(tmp_path / "a" / "events.jsonl", events)
        write_jsonl(tmp_path / "b" / "events.jsonl", events, _default_separators)
        a, b = cli_many([(("summary", "--json", d), tmp_path) for d in ("a", "b")])
        gap = [w for w in summaries(a.json)[0]["warnings"] if "missing" in w]
        assert 1 == len(gap)
        assert [w.replace("a/", "b/") for w in summaries(a.json)[0]["warnings"]] == summaries(b.json)[0]["warnings"]


# --- 2. Runs and ranks are kept apart ---------------------------------------------------------------------


def _seed_sweep(root: Path) -> None:
    """Two directories of one seed sweep that both say run="demo"."""
    write_jsonl(root / "seed1" / "events.jsonl", simple_run(evals={1: 0.2, 2: 0.4, 3: 0.6}, steps=(1, 2, 3)))
    write_jsonl(
        root / "seed2" / "events.jsonl",
        simple_run(t0=5000.0, evals={1: 0.3, 2: 0.5, 3: 0.1}, steps=(1, 2, 3), status="failed", error="diverged"),
    )


class TestRunIdentity:
    def test_trend_keeps_same_named_runs_apart(self, tmp_path: Path) -> None:
        """Item 2 (run identity): two directories with run="demo" give two series, each labelled by its directory."""
        _seed_sweep(tmp_path)
        got = cli("trend", "accuracy", "--json", "seed1", "seed2", cwd=tmp_path)
        assert 0 == got.code, got.err
        rows = trend_rows(got.json)
        series: dict[str, list[float]] = {}
        for r in rows:
            label = next((x for x in ("seed1", "seed2") if any(x in str(v) for v in r.values())), "no label")
            series.setdefault(label, []).append(r["value"])
        assert {"seed1": [0.2, 0.4, 0.6], "seed2": [0.3, 0.5, 0.1]} == series
        best = [(r["value"], r["best"]) for r in rows if r["best"]]
        assert [(0.6, True), (0.5, True)] == best

    def test_trend_table_shows_directory_labels(self, tmp_path: Path) -> None:
        """Item 2 (run identity): the rendered trend names both directories when run names collide."""
        _seed_sweep(tmp_path)
        got = cli("trend", "accuracy", "seed1", "seed2", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert "seed1" in got.out
        assert "seed2" in got.out

    def test_summary_keeps_same_named_runs_apart(self, tmp_path: Path) -> None:
        """Item 2 (run identity): `summary` of two same-named directories reports two runs with their own status."""
        _seed_sweep(tmp_path)
        got = cli("summary", "--json", "seed1", "seed2", cwd=tmp_path)
        assert 0 == got.code, got.err
        runs = summaries(got.json)
        assert ["completed", "failed"] == [s["status"] for s in runs]
        assert [3, 3] == [s["steps_done"] for s in runs]
        assert "seed1" in json.dumps(runs[0])
        assert "seed2" in json.dumps(runs[1])


class TestSeveralRuns:
    def _two(self, root: Path) -> None:
        write_jsonl(root / "alpha" / "events.jsonl", simple_run("alpha", metrics=lambda s: {"loss": 1.0 + s}))
        write_jsonl(root / "beta" / "events.jsonl", simple_run("beta", t0=1000.2, metrics=lambda s: {"loss": 2.0 + s}))

    def test_table_json_has_run_key(self, tmp_path: Path) -> None:
        """Item 2 (several runs): `table --json` rows of two runs each carry their run."""
        self._two(tmp_path)
        got = cli("table", "--cols", "step,loss", "--json", "alpha", "beta", cwd=tmp_path)
        assert 0 == got.code, got.err
        pairs = sorted((r["run"], r["step"], r["loss"]) for r in table_rows(got.json))
        assert [("alpha", s, 1.0 + s) for s in range(1, 5)] + [("beta", s, 2.0 + s) for s in range(1, 5)] == pairs

    def test_table_shows_run_column(self, tmp_path: Path) -> None:
        """Item 2 (several runs): the rendered `table` of two runs has a run column naming each row's run."""
        self._two(tmp_path)
        got = cli("table", "--cols", "step,loss", "alpha", "beta", cwd=tmp_path)
        assert 0 == got.code, got.err
        lines = got.out.splitlines()
        assert "run" in lines[0].split()
        rows = [ln for ln in lines if re.search(r"\b[1-4]/4\b", ln)]
        assert 8 == len(rows)
        assert ["alpha"] * 4 + ["beta"] * 4 == sorted(next(w for w in ("alpha", "beta") if w in ln) for ln in rows)

    def test_summary_json_shape_is_stable(self, tmp_path: Path) -> None:
        """Item 2 (several runs): `summary --json` has the same shape for one run and for two."""
        self._two(tmp_path)
        one, two = cli_many(
            [(("summary", "--json", "alpha"), tmp_path), (("summary", "--json", "alpha", "beta"), tmp_path)]
        )
        assert (0, 0) == (one.code, two.code)
        assert type(one.json) is type(two.json)
        if isinstance(one.json, dict):
            assert sorted(one.json) == sorted(two.json)
        assert [1, 2] == [len(summaries(one.json)), len(summaries(two.json))]


def _two_ranks(root: Path, *, fail: bool = False) -> Path:
    """A torchrun-style run directory: rank 0 and rank 1 files of the same run, identical evals on both ranks."""
    d = root / "ddp"
    for rank in (0, 1):
        name = "events.jsonl" if rank == 0 else f"events.rank{rank}.jsonl"
        if fail:
            status, error, end = (
                ("failed", "NCCL watchdog timeout: rank 1 exited", 1014.0)
                if rank == 0
                else ("failed", "CUDA error: out of memory", 1009.0)
            )
        else:
            status, error, end = "completed", None, None
        write_jsonl(
            d / name,
            simple_run(
                rank=rank,
                t0=1000.0 + 0.01 * rank,
                metrics=lambda s, r=rank: {"loss": round(1.0 / s + 0.01 * r, 4)},  # type: ignore[misc]
                evals={2: 0.5, 4: 0.7} if not fail else None,
                checkpoint_at=4,
                status=status,
                error=error,
                end_ts=end,
                extra=lambda s, ts, r=rank: [  # type: ignore[misc]
                    s("sample", ts, step=4, split="val", index=r, output=f"answer of rank {r}", reward=float(r)),
                    s("group_summary", ts + 0.1, step=4, groups_total=4, groups_kept=3 - r),
                ],
            ),
        )
    return d


class TestSeveralRanks:
    def test_table_has_rank_column(self, tmp_path: Path) -> None:
        """Item 2 (ranks): `table` of a two-rank run shows a rank column."""
        _two_ranks(tmp_path)
        got = cli("table", "--cols", "step,loss", "ddp", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert "rank" in got.out.splitlines()[0].split()

    def test_table_json_rows_carry_rank(self, tmp_path: Path) -> None:
        """Item 2 (ranks): `table --json` rows of a two-rank run say which rank they are."""
        _two_ranks(tmp_path)
        got = cli("table", "--cols", "step,loss", "--json", "ddp", cwd=tmp_path)
        assert 0 == got.code, got.err
        pairs = sorted((r.get("rank"), r["step"], r["loss"]) for r in table_rows(got.json))
        want = sorted((rank, s, round(1.0 / s + 0.01 * rank, 4)) for rank in (0, 1) for s in range(1, 5))
        assert want == pairs

    def test_trend_collapses_identical_evals(self, tmp_path: Path) -> None:
        """Item 2 (ranks): an eval logged identically by every rank is one trend point; change is between steps."""
        _two_ranks(tmp_path)
        got = cli("trend", "accuracy", "--json", "ddp", cwd=tmp_path)
        assert 0 == got.code, got.err
        rows = trend_rows(got.json)
        assert [(2, 0.5, None), (4, 0.7, 0.2)] == [
            (r["step"], r["value"], None if r["change"] is None else round(r["change"], 6)) for r in rows
        ]
        assert [False, True] == [r["best"] for r in rows]

    def test_summary_times_rank_zero(self, tmp_path: Path) -> None:
        """Item 2 (ranks): `summary` times phases on rank 0 (shares never over 100%) and counts a checkpoint once."""
        _two_ranks(tmp_path)
        got = cli("summary", "--json", "ddp", cwd=tmp_path)
        assert 0 == got.code, got.err
        s = summaries(got.json)
        assert 1 == len(s)
        phases = {p["phase"]: p for p in s[0]["phases"]}
        assert (1, 4) == (phases["training"]["runs"], phases["training_step"]["runs"])
        assert all(p["share"] is None or p["share"] <= 1.0 for p in s[0]["phases"]), s[0]["phases"]
        assert [4] == [c["step"] for c in s[0]["checkpoints"]]

    def test_summary_root_cause_is_first_failing_rank(self, tmp_path: Path) -> None:
        """Item 2 (ranks): `summary` reports the first failing rank's error as the root cause."""
        _two_ranks(tmp_path, fail=True)
        got, human = cli_many([(("summary", "--json", "ddp"), tmp_path), (("summary", "ddp"), tmp_path)])
        assert 0 == got.code, got.err
        s = summaries(got.json)[0]
        assert "failed" == s["status"]
        assert "CUDA error: out of memory" in s["error"]
        assert "NCCL" not in s["error"]
        assert "CUDA error: out of memory" in human.out, human.out
        assert "NCCL" not in human.out.split("CUDA error")[0], human.out  # the root cause comes first

    def test_phases_not_interleaved(self, tmp_path: Path) -> None:
        """Item 2 (ranks): `phases` keeps each rank's timeline together instead of interleaving ranks."""
        _two_ranks(tmp_path)
        got = cli("phases", "--all", "--json", "ddp", cwd=tmp_path)
        assert 0 == got.code, got.err
        ranks = [p.get("rank", 0) for p in got.json["phases"]]
        assert sorted(ranks) == ranks

    @pytest.mark.parametrize(
        ("args", "expect"),
        [
            (
                ("trend", "step.loss", "--json"),
                lambda j: [r["value"] for r in trend_rows(j)] == [1.01, 0.51, 0.3433, 0.26],
            ),
            (
                ("summary", "--json"),
                lambda j: 0.26 in numbers(j) and 0.25 not in numbers(j),
            ),
            (  # eval --json is the flat eval_step_XXXX.json object since issue 11 (main); nested before
                ("eval", "--json"),
                lambda j: j["step"] == 4 and j.get("metrics", j).get("accuracy") == 0.7,
            ),
            (("samples", "--json"), lambda j: [s["output"] for s in j] == ["answer of rank 1"]),
            (("groups", "--json"), lambda j: [g["groups_kept"] for g in j["summaries"]] == [2]),
        ],
        ids=["trend", "summary", "eval", "samples", "groups"],
    )
    def test_rank_option_everywhere(self, args: tuple[str, ...], expect: Callable[[Any], bool], tmp_path: Path) -> None:
        """Item 2 (ranks): every command accepts `--rank N` and answers for that rank only."""
        _two_ranks(tmp_path)
        got = cli(*args, "--rank", "1", "ddp", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert expect(got.json), got.out


def _resumed(root: Path) -> Path:
    """Steps 1-5, killed; then a restart appends steps 4-8 to the same file (a new process: seq from 0)."""
    first = Seq()
    events = [first("run_start", 1000.0, total_steps=8)]
    for i, step in enumerate(range(1, 6)):
        events.append(first("step_metrics", 1001.0 + i, step=step, total_steps=8, metrics={"loss": 1.0 - 0.1 * step}))
    second = Seq()  # restart: 5 s of work in the first segment, 6 s in the second
    events.append(second("run_start", 2000.0, total_steps=8))
    for i, step in enumerate(range(4, 9)):
        events.append(second("step_metrics", 2001.0 + i, step=step, total_steps=8, metrics={"loss": 0.65 - 0.05 * i}))
    events.append(second("run_end", 2006.0, status="completed", duration=6.0))
    return write_jsonl(root / "resumed" / "events.jsonl", events).parent


class TestResumedRun:
    def test_table_later_value_wins(self, tmp_path: Path) -> None:
        """Item 2 (resumed): `table` shows each step once, a repeated step with its later value."""
        _resumed(tmp_path)
        got = cli("table", "--cols", "step,loss", "--json", "resumed", cwd=tmp_path)
        assert 0 == got.code, got.err
        rows = [(r["step"], round(r["loss"], 4)) for r in table_rows(got.json)]
        assert [(1, 0.9), (2, 0.8), (3, 0.7), (4, 0.65), (5, 0.6), (6, 0.55), (7, 0.5), (8, 0.45)] == rows

    def test_table_marks_the_resume(self, tmp_path: Path) -> None:
        """Item 2 (resumed): the rendered `table` shows the resume as a boundary (a note and a marker)."""
        _resumed(tmp_path)
        got = cli("table", "--cols", "step,loss", "resumed", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert 8 == sum(1 for ln in got.out.splitlines() if re.match(r"\s*\d/8\s", ln))
        assert re.search("resum", got.out + got.err, re.IGNORECASE), got.out + got.err

    def test_trend_later_value_wins(self, tmp_path: Path) -> None:
        """Item 2 (resumed): `trend` has one point per step, the later value of a repeated step."""
        _resumed(tmp_path)
        got = cli("trend", "step.loss", "--json", "resumed", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert [1, 2, 3, 4, 5, 6, 7, 8] == [r["step"] for r in trend_rows(got.json)]
        assert [0.65, 0.6] == [round(r["value"], 4) for r in trend_rows(got.json)][3:5]

    def test_summary_adds_segment_durations(self, tmp_path: Path) -> None:
        """Item 2 (resumed): `summary` duration is the sum of the segments (5 s killed + 6 s resumed)."""
        _resumed(tmp_path)
        got = cli("summary", "--json", "resumed", cwd=tmp_path)
        assert 0 == got.code, got.err
        s = summaries(got.json)[0]
        assert 11.0 == pytest.approx(s["duration"])
        assert (8, "completed") == (s["steps_done"], s["status"])


# --- 3. Any metric name works -------------------------------------------------------------------------------

_TRL = (
    "rewards/accuracy_reward/mean",
    "rewards/accuracy_reward/std",
    "completions/mean_length",
    "train/loss",
    "lr.scheduled",
)


def _trl_run(root: Path, steps: int = 4) -> Path:
    """A TRL/HF/W&B-named run: slashes and dots in metric names."""

    def metrics(s: int) -> dict[str, Any]:
        return {
            "rewards/accuracy_reward/mean": 0.2 * s,
            "rewards/accuracy_reward/std": 0.5 - 0.1 * s,
            "completions/mean_length": 100.0 + s,
            "train/loss": 1.0 / s,
            "lr.scheduled": 1e-6 * s,
        }

    return write_jsonl(root / "trl" / "events.jsonl", simple_run(steps=range(1, steps + 1), metrics=metrics)).parent


class TestWhereQuoting:
    def test_quoted_key_with_slashes(self, tmp_path: Path) -> None:
        """Item 3: `filter --where 'metrics["rewards/accuracy_reward/mean"] > 0.5'` addresses a `/` key."""
        _trl_run(tmp_path)
        got = cli("filter", "--where", 'metrics["rewards/accuracy_reward/mean"] > 0.5', "trl", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert [3, 4] == [json.loads(x)["step"] for x in got.out.splitlines()]

    def test_quoted_key_with_a_dot(self, tmp_path: Path) -> None:
        """Item 3: a quoted key may hold a dot (`metrics["lr.scheduled"]`), which is one key, not a path."""
        _trl_run(tmp_path)
        got = cli("filter", "--where", 'metrics["lr.scheduled"] > 2.5e-6', "trl", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert [3, 4] == [json.loads(x)["step"] for x in got.out.splitlines()]

    def test_caret_points_at_the_column(self, tmp_path: Path) -> None:
        """Item 3: an error after a quoted key still puts the caret under the bad column."""
        _trl_run(tmp_path)
        expr = 'metrics["rewards/acc/mean"] > > 0.5'
        got = cli("filter", "--where", expr, "trl", cwd=tmp_path)
        assert 2 == got.code
        lines = got.err.splitlines()
        i = next(i for i, ln in enumerate(lines) if ln.strip() == expr)
        bad = expr.index("> 0.5")
        assert bad == lines[i + 1].index("^") - lines[i].index(expr)
        assert f"column {bad + 1}" in got.err


class TestWideTables:
    def test_headers_stay_unique(self, tmp_path: Path) -> None:
        """Item 3: `table` headers of `…/mean` and `…/std` stay distinct instead of both reading `rewards/accura`."""
        _trl_run(tmp_path)
        got = cli(
            "table", "--cols", "step,rewards/accuracy_reward/mean,rewards/accuracy_reward/std", "trl", cwd=tmp_path
        )
        assert 0 == got.code, got.err
        assert "mean" in got.out
        assert "std" in got.out

    def test_forty_metrics_fit_the_terminal(self, tmp_path: Path) -> None:
        """Item 3: a table 40 metrics wide fits COLUMNS=100 (wrapped or transposed) and still shows every value."""
        names = [f"group{i // 10}/metric_{i:02d}" for i in range(40)]
        write_jsonl(
            tmp_path / "wide" / "events.jsonl",
            simple_run(steps=(1, 2), metrics=lambda s: {n: 101.0 + i + 100 * (s - 1) for i, n in enumerate(names)}),
        )
        got = cli("table", "--cols", ",".join(["step", *names]), "wide", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert max(len(ln) for ln in got.out.splitlines()) <= 100
        values = re.findall(r"\b\d{3}\b", got.out)
        assert {str(101 + i + 100 * k) for i in range(40) for k in (0, 1)} <= set(values)

    def test_cols_all(self, tmp_path: Path) -> None:
        """Item 3: `--cols all` selects every metric."""
        _trl_run(tmp_path)
        got = cli("table", "--cols", "all", "--json", "trl", cwd=tmp_path)
        assert 0 == got.code, got.err
        row = table_rows(got.json)[0]
        assert set(_TRL) <= set(row), row
        assert 0.2 == pytest.approx(row["rewards/accuracy_reward/mean"])

    def test_cols_glob(self, tmp_path: Path) -> None:
        """Item 3: `--cols 'rewards/*'` selects exactly the metrics under rewards/ (with the step)."""
        _trl_run(tmp_path)
        got = cli("table", "--cols", "step,rewards/*", "--json", "trl", cwd=tmp_path)
        assert 0 == got.code, got.err
        row = table_rows(got.json)[0]
        assert {"rewards/accuracy_reward/mean", "rewards/accuracy_reward/std"} == {
            k for k in row if "/" in k or "." in k
        }


class TestSummaryMetrics:
    def test_every_metric_listed(self, tmp_path: Path) -> None:
        """Item 3: `summary` lists every metric of the run, not only five GRPO names."""
        _trl_run(tmp_path)
        got, human = cli_many([(("summary", "--json", "trl"), tmp_path), (("summary", "trl"), tmp_path)])
        assert 0 == got.code, got.err
        text = json.dumps(summaries(got.json)[0])
        assert [] == [n for n in _TRL if json.dumps(n) not in text and n not in text]
        assert [] == [
            n for n in ("accuracy_reward/mean", "accuracy_reward/std", "mean_length", "scheduled") if n not in human.out
        ]

    def test_no_best_without_a_declared_direction(self, tmp_path: Path) -> None:
        """Item 3: an undeclared metric (`completions/mean_length`) gets no "best": direction is never guessed."""
        _trl_run(tmp_path)
        got = cli("trend", "step.completions/mean_length", "--json", "trl", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert [False] * 4 == [bool(r.get("best")) for r in trend_rows(got.json)]

    def test_declared_direction(self, tmp_path: Path) -> None:
        """Item 3: `--higher-better` declares the direction, so the largest length is the best."""
        _trl_run(tmp_path)
        got = cli("trend", "step.completions/mean_length", "--higher-better", "--json", "trl", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert [4] == [r["step"] for r in trend_rows(got.json) if r.get("best")]

    def test_ties_are_not_all_best(self, tmp_path: Path) -> None:
        """Item 3: when a known higher-better metric ties at its maximum, only one point is the best."""
        write_jsonl(tmp_path / "tie" / "events.jsonl", simple_run(evals={1: 0.5, 2: 0.7, 3: 0.7, 4: 0.6}))
        got = cli("trend", "accuracy", "--json", "tie", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert 1 == sum(1 for r in trend_rows(got.json) if r["best"])


# --- 4. A typo gets help, not silence ------------------------------------------------------------------


class TestTypos:
    @pytest.mark.parametrize(
        ("args", "meant", "listed"),
        [
            (("trend", "accuracyy"), "accuracy", ("accuracy", "loss", "kl")),
            (("trend", "step.los"), "loss", ("loss", "kl")),
            (("table", "--cols", "step,los"), "loss", ("loss", "kl")),
            (("replay", "--event", "eval"), "eval_summary", ("eval_summary", "step_metrics", "run_end")),
            (("replay", "--phase", "trainig"), "training", ("training", "training_step")),
            (("filter", "--where", "metrics.los > 1"), "loss", ("loss", "kl")),
        ],
        ids=["trend", "trend-step", "table-cols", "replay-event", "replay-phase", "filter-where"],
    )
    def test_unknown_name_suggests(
        self, args: tuple[str, ...], meant: str, listed: tuple[str, ...], tmp_path: Path
    ) -> None:
        """Item 4: an unknown metric, event, phase or column exits 1 (2: usage) with the list and "did you mean"."""
        write_jsonl(tmp_path / "r" / "events.jsonl", simple_run(evals={2: 0.5, 4: 0.7}))
        got = cli(*args, "r", cwd=tmp_path)
        assert got.code in (1, 2), (got.code, got.out)
        assert "" == got.out
        assert re.search(r"did you mean\W+" + re.escape(meant) + r"\b", got.err), got.err
        assert [] == [n for n in listed if not re.search(rf"\b{n}\b", got.err)], got.err


# --- 5. Inputs and small defects -----------------------------------------------------------------------


class TestInputs:
    def test_gzip_on_stdin_filter(self, tmp_path: Path) -> None:
        """Item 5: `gzip -c run.jsonl | eventlog filter -` gives every event (stdin sniffed for gzip)."""
        events = simple_run()
        data = gzip.compress("".join(compact(e) + "\n" for e in events).encode())
        got = cli("filter", "-", cwd=tmp_path, stdin=data)
        assert 0 == got.code, got.err
        assert list(range(len(events))) == [json.loads(x)["seq"] for x in got.out.splitlines()]

    def test_gzip_on_stdin_validate(self, tmp_path: Path) -> None:
        """Item 5: `validate -` on gzip input checks every event and reports no false seq gap."""
        events = simple_run()
        data = gzip.compress("".join(compact(e) + "\n" for e in events).encode())
        got = cli("validate", "--json", "-", cwd=tmp_path, stdin=data)
        assert 0 == got.code, got.out
        assert (len(events), []) == (got.json["lines"], got.json["problems"])

    def test_quoted_glob_of_run_directories(self, tmp_path: Path) -> None:
        """Item 5: a quoted glob of run directories (`'runs/*'`) reads every run instead of "Is a directory"."""
        write_jsonl(tmp_path / "runs" / "a" / "events.jsonl", simple_run("a", evals={2: 0.5}))
        write_jsonl(tmp_path / "runs" / "b" / "events.jsonl", simple_run("b", evals={2: 0.6}))
        got = cli("trend", "accuracy", "--json", "runs/*", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert [0.5, 0.6] == sorted(r["value"] for r in trend_rows(got.json))

    def test_validate_narrow_terminal_shows_file_and_line(self, tmp_path: Path) -> None:
        """Item 5: `validate` at COLUMNS=60 still shows the whole file name and the line number of a problem."""
        lines = [compact(e) for e in simple_run()]
        lines[2] = '{"v":1,"ts":1001.0,"event":"phase_start"'  # a damaged line 3
        name = "events.rank1.pid12345.jsonl"
        (tmp_path / "badrun").mkdir()
        (tmp_path / "badrun" / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        got = cli("validate", "badrun", cwd=tmp_path, columns=60)
        assert 1 == got.code
        hits = [ln for ln in got.out.splitlines() if re.search(re.escape(name) + r"\W+3\b", ln)]
        assert 1 == len(hits), got.out


class TestSmallDefects:
    def test_export_keeps_extra_fields(self, tmp_path: Path) -> None:
        """Item 5: `export` keeps a sample's fields outside the schema (`advantage`) as columns."""
        s = Seq()
        events = [s("run_start", 1000.0)] + [
            s("sample", 1001.0 + i, step=1, index=i, output=f"out {i}", reward=float(i), advantage=0.5 - i)
            for i in range(3)
        ]
        write_jsonl(tmp_path / "r" / "events.jsonl", events)
        got = cli("export", "--format", "csv", "--out", "x", "r", cwd=tmp_path)
        assert 0 == got.code, got.err
        rows = (tmp_path / "x" / "sample.csv").read_text().splitlines()
        header = rows[0].split(",")
        assert "advantage" in header
        col = header.index("advantage")
        assert ["0.5", "-0.5", "-1.5"] == [r.split(",")[col] for r in rows[1:]]

    def test_summary_shows_config(self, tmp_path: Path) -> None:
        """Item 5: `summary` shows run_start.config, and `summary --json` carries it."""
        cfg = {"lr": 3e-06, "model": "Qwen2.5-7B-Instruct", "beta": 0.04}
        write_jsonl(tmp_path / "r" / "events.jsonl", simple_run(config=cfg))
        got, human = cli_many([(("summary", "--json", "r"), tmp_path), (("summary", "r"), tmp_path)])
        assert 0 == got.code, got.err
        assert cfg == summaries(got.json)[0]["config"]
        assert "Qwen2.5-7B-Instruct" in human.out
        assert "beta" in human.out

    def test_eval_step_lists_existing_steps(self, tmp_path: Path) -> None:
        """Item 5: `eval --step 16` names the steps that have an eval."""
        write_jsonl(tmp_path / "r" / "events.jsonl", simple_run(steps=range(1, 31), evals={15: 0.3, 30: 0.6}))
        got = cli("eval", "--step", "16", "r", cwd=tmp_path)
        assert 1 == got.code
        assert re.search(r"\b15\b.*\b30\b", got.err), got.err

    def test_every_includes_last_step(self, tmp_path: Path) -> None:
        """Item 5: `table --every 10` ends with the last step."""
        write_jsonl(tmp_path / "r" / "events.jsonl", simple_run(steps=range(1, 26)))
        got = cli("table", "--every", "10", "--cols", "step,loss", "--json", "r", cwd=tmp_path)
        assert 0 == got.code, got.err
        steps = [r["step"] for r in table_rows(got.json)]
        assert 25 == steps[-1]
        assert len(steps) == len(set(steps))

    def test_version(self, tmp_path: Path) -> None:
        """Item 5: `eventlog --version` prints the version."""
        got = cli("--version", cwd=tmp_path)
        assert 0 == got.code, got.err
        assert eventlog.__version__ in got.out

    def test_readme_grep_example(self, tmp_path: Path) -> None:
        """Item 5: the README's `eventlog grep` example prints output, and the output the README shows."""
        readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        i = next(i for i, ln in enumerate(readme) if ln.startswith("$ eventlog grep"))
        args = shlex.split(readme[i][len("$ eventlog ") :], comments=True)
        shown = []
        for ln in readme[i + 1 :]:
            if ln.startswith(("$ ", "```")):
                break
            shown.append(ln)
        demo = cli("demo", "--delay", "0", "--style", "off", cwd=tmp_path, timeout=120)
        assert 0 == demo.code, demo.err
        got = cli(*args, cwd=tmp_path)
        assert 0 == got.code, (args, got.err)
        assert got.out.strip()
        volatile = re.compile(r"timing=|[Dd]uration|Elapsed|ETA|\d\.\ds\b")  # times differ from run to run
        assert [] == [ln for ln in got.out.splitlines() if not volatile.search(ln) and ln not in shown], shown


# --- replay --follow -------------------------------------------------------------------------------------


def _finish(proc: subprocess.Popen[bytes], timeout: float = 30) -> Result:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return Result(-999, out.decode(), err.decode() + "\n(timed out: did not stop at run_end)")
    return Result(proc.returncode, out.decode(), err.decode())


def _rank_events(
    rank: int, steps: Sequence[int], t0: float, start: bool, end: bool, seq0: int = 0
) -> list[dict[str, Any]]:
    s = Seq(rank=rank)
    s.n = seq0
    out = [s("run_start", t0, total_steps=4)] if start else []
    out += [
        s("step_metrics", t0 + step, step=step, total_steps=4, metrics={"loss": 0.1 * step + 0.01 * (rank + 1)})
        for step in steps
    ]
    if end:
        out.append(s("run_end", t0 + 9, status="completed", duration=9.0))
    return out


class TestFollow:
    def test_follow_directory_of_ranks_until_end(self, tmp_path: Path) -> None:
        """Item 5: `replay --follow --until-end DIR` follows every rank file, applies --steps, and stops at run_end."""
        d = tmp_path / "live"
        for rank in (0, 1):
            write_jsonl(
                d / ("events.jsonl" if rank == 0 else "events.rank1.jsonl"),
                _rank_events(rank, [1], 1000.0 + rank * 0.01, True, False),
            )
        proc = popen("replay", "--follow", "--until-end", "--style", "compact", "--steps", "2:3", "live", cwd=tmp_path)
        time.sleep(1.0)  # let it start following (if it is slower, the lines are simply part of its first read)
        for rank in (0, 1):
            write_jsonl(
                d / ("events.jsonl" if rank == 0 else "events.rank1.jsonl"),
                _rank_events(rank, [2, 3, 4], 1000.0 + rank * 0.01, False, True, seq0=2),
            )
        got = _finish(proc)
        assert 0 == got.code, got.err
        shown = set(re.findall(r"\b0\.\d\d\b", got.out))
        assert {"0.21", "0.31"} <= shown, got.out
        assert set() == shown & {"0.11", "0.12", "0.41", "0.42"}, got.out
        plain = cli("replay", "--style", "compact", "--steps", "2:3", "live", cwd=tmp_path)
        assert set(re.findall(r"\b0\.\d\d\b", plain.out)) == shown

    def test_follow_waits_for_a_run_not_there_yet(self, tmp_path: Path) -> None:
        """Item 5: `replay --follow --until-end` on a run not there yet waits for it, then stops at run_end."""
        proc = popen("replay", "--follow", "--until-end", "--style", "compact", "later", cwd=tmp_path)
        time.sleep(1.0)
        write_jsonl(tmp_path / "later" / "events.jsonl", _rank_events(0, [1, 2], 1000.0, True, True))
        got = _finish(proc)
        assert 0 == got.code, got.err
        assert {"0.11", "0.21"} <= set(re.findall(r"\b0\.\d\d\b", got.out))

    def test_follow_keeps_lines_appended_during_the_first_read(self, tmp_path: Path) -> None:
        """Item 5: `replay --follow` goes on where its first read stopped: no line appended meanwhile is lost."""
        s = Seq()
        first = [s("step_metrics", 1000.0 + i / 1000, step=i, metrics={"loss": 0.5}) for i in range(1, 30001)]
        path = write_jsonl(tmp_path / "live" / "events.jsonl", [s("run_start", 999.0), *first])
        proc = popen("replay", "--follow", "--style", "compact", "--event", "log", "live", cwd=tmp_path)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(x.decode() for x in proc.stdout or []), daemon=True)
        reader.start()
        n, start = 0, time.monotonic()
        with open(path, "a", encoding="utf-8") as f:
            while time.monotonic() - start < 2.5:  # one line every 10 ms, before, during and after the first read
                f.write(compact(s("log", 2000.0 + n, level="info", msg=f"tick {n:04d}")) + "\n")
                f.flush()
                n += 1
                time.sleep(0.01)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(f"tick {n - 1:04d}" in x for x in list(lines)):
            time.sleep(0.1)
        proc.kill()
        proc.wait(timeout=10)
        reader.join(timeout=10)
        shown = re.findall(r"tick (\d{4})", "".join(lines))
        assert [f"{i:04d}" for i in range(n)] == shown
