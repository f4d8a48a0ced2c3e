"""Answers that were silently wrong, empty or mixed (probes shaped like real runs: HF, TRL, verl, ranks, resumes)."""

from __future__ import annotations

import math
from pathlib import Path

import orjson

from conftest import cli
from conftest import write_events as _write


def _own_names(n: int) -> list[dict]:  # a loop's own metric names: none is reward, loss, kl, ... or a TRL/verl name
    return [
        {"event": "step_metrics", "step": s, "metrics": {"foo_score": s / 2, "rewards/chosen": s, "step": 10 * s}}
        for s in range(1, n + 1)
    ]


def test_table_of_metrics_without_a_default_column_shows_them(tmp_path: Path) -> None:
    path = _write(tmp_path / "run.jsonl", _own_names(3))
    rows = orjson.loads(cli("table", "--json", str(path)).stdout)
    assert [r["foo_score"] for r in rows] == [0.5, 1.0, 1.5]  # was: step, epoch and time only
    assert [r["rewards/chosen"] for r in rows] == [1, 2, 3]
    assert [r["metrics.step"] for r in rows] == [10, 20, 30]  # a metric named like a field keeps its prefix
    assert [r["step"] for r in rows] == [1, 2, 3]


def test_table_says_which_metrics_did_not_fit(tmp_path: Path) -> None:
    path = _write(tmp_path / "run.jsonl", _own_names(2))
    wide = cli("table", str(path))
    assert "foo_score" in wide.stdout and "rewards/chosen" in wide.stdout
    assert "note:" not in wide.stderr  # all three fit
    many = [{"event": "step_metrics", "step": 1, "metrics": {f"my_metric_{i:02}": i for i in range(40)}}]
    narrow = cli("table", str(_write(tmp_path / "many.jsonl", many)))
    assert "my_metric_00" in narrow.stdout
    assert "my_metric_39" not in narrow.stdout
    assert "of its 40 metrics fit the width" in narrow.stderr
    assert "--cols" in narrow.stderr


def test_table_with_a_known_metric_keeps_its_default_columns(tmp_path: Path) -> None:
    events = [{"event": "step_metrics", "step": 1, "metrics": {"loss": 0.5, "foo_score": 1.0}}]
    result = cli("table", "--json", str(_write(tmp_path / "run.jsonl", events)))
    assert "foo_score" not in orjson.loads(result.stdout)[0]  # the roles decide, as before
    assert "note: 1 more metric(s) not in the default columns (foo_score)" in result.stderr  # but it is named


def test_groups_at_a_step_without_tables_says_so(tmp_path: Path) -> None:
    events = []
    for s in (3, 6):
        events.append({"event": "group_summary", "step": s, "groups_total": 4, "groups_kept": 3})
        events.append({"event": "group_detail", "step": s, "group": 0, "rewards": [1.0, 0.0]})
    path = _write(tmp_path / "run.jsonl", events)
    assert "step 6, group 0" in cli("groups", "--step", "6", str(path)).stdout
    result = cli("groups", "--step", "99", str(path))
    assert result.exit_code == 1  # was exit 0 with the summaries only
    assert "no group_detail events at step 99; steps with them: 3, 6" in result.output
    only_summaries = _write(tmp_path / "summaries.jsonl", [e for e in events if e["event"] == "group_summary"])
    assert cli("groups", str(only_summaries)).exit_code == 0
    assert cli("groups", "--step", "3", str(only_summaries)).exit_code == 1


def test_tab_and_newline_in_metric_names_stay_on_one_line(tmp_path: Path) -> None:
    events = [{"event": "step_metrics", "step": s, "metrics": {"loss": s, "a\tb": s, "x\ny": 2 * s}} for s in (1, 2)]
    path = _write(tmp_path / "run.jsonl", events)
    lines = cli("table", "--cols", "all", str(path)).stdout.splitlines()
    assert len(lines) == 3  # a header and two rows (the newline split the header in two)
    assert lines[0].split() == ["step", "loss", "a\\tb", "x\\ny"]
    assert lines[2].split() == ["2", "2", "2", "4"]
    summary = cli("summary", str(path)).stdout
    assert "step.a\\tb" in summary and "step.x\\ny" in summary
    assert "\t" not in summary


def test_the_console_step_table_header_stays_on_one_line() -> None:
    from eventlog._columns import StepTable, column_for

    table = StepTable([column_for("step"), column_for("x\ny"), column_for("a\tb")])
    assert "\n" not in table.header() and "\t" not in table.header()
    assert "x\\ny" in table.header()
    row = table.row({"step": 1, "x\ny": "p\nq", "a\tb": 2})
    assert "\n" not in row and "p\\nq" in row


def _evals(run: str, rank: int, accuracy: float) -> list[dict]:
    return [
        {
            "event": "eval_summary",
            "run": run,
            "rank": rank,
            "step": 5,
            "split": "val",
            "metrics": {"accuracy": accuracy},
        }
    ]


def test_eval_never_mixes_runs_or_ranks(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _write(tmp_path / "a" / "events.jsonl", _evals("a", 0, 0.5))
    b = _write(tmp_path / "b" / "events.jsonl", _evals("b", 0, 0.77))
    for order in ((a, b), (b, a)):  # the last path's eval was shown, unlabelled
        result = cli("eval", *map(str, order))
        assert result.exit_code == 1
        assert "2 runs" in result.output and "give one run's path" in result.output
    ranks = tmp_path / "ranks"
    ranks.mkdir()
    _write(ranks / "events.jsonl", _evals("r", 0, 0.025))
    _write(ranks / "events.rank1.jsonl", _evals("r", 1, 0.9))
    shown = cli("eval", "--json", str(ranks))
    assert orjson.loads(shown.stdout)["accuracy"] == 0.025  # rank 0's, as the other commands
    assert "showing rank 0" in shown.stderr
    picked = cli("eval", "--json", "--rank", "1", str(ranks))
    assert orjson.loads(picked.stdout)["accuracy"] == 0.9


def test_trend_says_which_run_lacks_the_metric_and_names_the_others(tmp_path: Path) -> None:
    for d, metrics in (("a", {"accuracy": 0.5, "pass@8": 0.6}), ("b", {"accuracy": 0.4})):
        (tmp_path / d).mkdir()
        start = {"event": "run_start", "run": "hf", "pid": 1, "host": "h"}
        evals = [{"event": "eval_summary", "run": "hf", "step": s, "metrics": metrics} for s in (1, 2)]
        _write(tmp_path / d / "events.jsonl", [start, *evals])
    result = cli("trend", "--json", "pass@8", str(tmp_path / "a"), str(tmp_path / "b"))
    assert result.exit_code == 0
    assert {r["run"] for r in orjson.loads(result.stdout)["rows"]} == {"a"}  # was "hf": the same name as b's run
    assert f"no eval.pass@8 in {tmp_path / 'b'}" in result.stderr  # was nothing: b silently left out
    both = cli("trend", "--json", "accuracy", str(tmp_path / "a"), str(tmp_path / "b"))
    assert {r["run"] for r in orjson.loads(both.stdout)["rows"]} == {"a", "b"}
    assert "note:" not in both.stderr


def _run(path: Path, run: str, metrics: dict, resumed: bool = False) -> Path:
    path.mkdir()
    events: list[dict] = []
    for seg, (t0, t1) in enumerate(((0.0, 10.0), (100.0, 104.0)) if resumed else ((0.0, 10.0),)):
        events.append({"event": "run_start", "run": run, "ts": 1750000000.0 + t0, "pid": 1, "host": "h"})
        for s in (1, 2):
            step = s + 2 * seg
            events.append(
                {"event": "step_metrics", "run": run, "ts": 1750000000.0 + t0 + s, "step": step, "metrics": metrics}
            )
        events.append(
            {"event": "run_end", "run": run, "ts": 1750000000.0 + t1, "status": "completed", "duration": t1 - t0}
        )
    lines = [orjson.dumps({"v": 1, "rank": 0, "seq": i, **e}) for i, e in enumerate(events)]
    (path / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_compare_keeps_metrics_two_runs_share_and_adds_up_a_resumed_run(tmp_path: Path) -> None:
    a = _run(tmp_path / "a", "a", {"loss": 0.5, "kl": 0.1})
    b = _run(tmp_path / "b", "b", {"loss": 0.4, "kl": 0.2})
    c = _run(tmp_path / "c", "c", {"accuracy": 0.9}, resumed=True)
    data = orjson.loads(cli("compare", "--json", str(a), str(b), str(c)).stdout)
    metrics = {(m["metric"], m["run"]): m["final"] for m in data["metrics"]}
    assert metrics[("step.loss", "a")] == 0.5 and metrics[("step.loss", "b")] == 0.4  # was no metrics at all
    assert metrics[("step.loss", "c")] is None
    assert data["only_in_one_run"] == [{"metric": "step.accuracy", "run": "c"}]
    assert [r["duration"] for r in data["runs"]] == [10.0, 10.0, 14.0]  # c was 4.0: its last segment only
    shown = cli("compare", str(a), str(b), str(c)).stdout
    assert "not compared, in one run only: step.accuracy (c)" in shown


def test_watch_shows_each_eval_split_on_its_own(tmp_path: Path) -> None:
    evals = [
        {"event": "eval_summary", "step": s, "split": sp, "metrics": {"accuracy": acc}}
        for s, (val, test) in ((1, (0.9, 0.1)), (2, (0.5, 0.2)))
        for sp, acc in (("val", val), ("test", test))
    ]
    shown = cli("watch", "--once", str(_write(tmp_path / "run.jsonl", evals))).stdout
    assert "0.5 (best 0.9)" in shown  # val's last and best; was test's last beside val's best
    assert "0.2 (best 0.2)" in shown
    assert "eval accuracy [val]" in shown and "eval accuracy [test]" in shown


def test_export_keeps_a_number_field_with_a_nan_numeric(tmp_path: Path) -> None:
    import polars as pl

    samples = [
        {"event": "sample", "step": 1, "prompt": "p", "completion": "c", "reward": r, "advantage": a}
        for r, a in ((1.0, 0.5), ("NaN", -0.5), (0.0, "Infinity"), (2, None))
    ]
    path = _write(tmp_path / "run.jsonl", [*samples, {"event": "log", "level": "info", "msg": "m", "tag": "NaN"}])
    assert cli("export", str(path), "--out", str(tmp_path / "out")).exit_code == 0
    frame = pl.read_parquet(tmp_path / "out" / "sample.parquet")
    assert frame.schema["reward"] == pl.Float64  # was String ('1.0', 'NaN', ...): max() was 'NaN'
    assert frame["reward"].to_list()[0] == 1.0 and frame["reward"].is_nan().to_list() == [False, True, False, False]
    assert frame["advantage"].to_list()[2] == float("inf")
    assert pl.read_parquet(tmp_path / "out" / "log.parquet")["tag"].to_list() == ["NaN"]  # text stays text


def test_export_of_two_directories_keeps_their_runs_apart_and_takes_a_rank(tmp_path: Path) -> None:
    import polars as pl

    for d, ranks in (("a", (0, 1)), ("b", (0,))):
        (tmp_path / d).mkdir()
        for rank in ranks:
            name = "events.jsonl" if rank == 0 else f"events.rank{rank}.jsonl"
            steps = [{"event": "step_metrics", "run": "demo", "rank": rank, "step": 1, "metrics": {"loss": rank}}]
            _write(tmp_path / d / name, steps)
    out = tmp_path / "out"
    assert cli("export", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)).exit_code == 0
    frame = pl.read_parquet(out / "step_metrics.parquet")
    assert sorted(zip(frame["source_dir"], frame["rank"], strict=True)) == [  # was: three rows all run=demo, no source
        (str(tmp_path / "a"), 0),
        (str(tmp_path / "a"), 1),
        (str(tmp_path / "b"), 0),
    ]
    one = tmp_path / "one"
    assert cli("export", str(tmp_path / "a"), "--rank", "1", "--out", str(one)).exit_code == 0
    frame = pl.read_parquet(one / "step_metrics.parquet")
    assert frame["rank"].to_list() == [1] and "source_dir" not in frame.columns  # one directory: no source column
    assert cli("export", str(tmp_path / "a"), "--rank", "5", "--out", str(one)).exit_code == 1


def test_watch_into_a_pipe_prints_the_frame_when_the_run_has_ended(tmp_path: Path) -> None:
    import subprocess
    import sys

    events = [
        {"event": "run_start", "pid": 1, "host": "h"},
        *_steps_of(3),
        {"event": "run_end", "status": "completed", "duration": 3.0},
    ]
    path = _write(tmp_path / "run.jsonl", events)
    code = "from eventlog_cli import main; main()"
    done = subprocess.run(  # was: no output, for ever (rich's live view prints nothing into a pipe)
        [sys.executable, "-c", code, "watch", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "run completed" in done.stdout
    assert "not a terminal" in done.stderr


def test_watch_into_a_pipe_prints_the_frame_on_ctrl_c_when_the_run_never_ends(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    path = _write(tmp_path / "run.jsonl", [{"event": "run_start", "pid": 1, "host": "h"}, *_steps_of(2)])  # killed
    code = "from eventlog_cli import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "watch", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    assert "not a terminal" in proc.stderr.readline()  # written just before the waiting loop
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "loss" in out  # the frame as it stood; was nothing


def _steps_of(n: int) -> list[dict]:
    return [{"event": "step_metrics", "step": s, "metrics": {"loss": 1 / s}} for s in range(1, n + 1)]


def test_a_bare_nan_elsewhere_keeps_integer_metrics_exact(tmp_path: Path) -> None:
    import json

    events = [
        {"event": "step_metrics", "step": s, "metrics": {"tokens": 2**53 + s, "loss": math.nan if s == 2 else 0.5}}
        for s in (1, 2, 3)
    ]
    text = "\n".join(
        json.dumps({"v": 1, "ts": 1.0 + i, "run": "r", "rank": 0, "seq": i, **e}) for i, e in enumerate(events)
    )
    path = tmp_path / "run.jsonl"
    path.write_text(text + "\n")  # json.dumps writes a bare NaN: the line takes the forgiving path
    rows = orjson.loads(cli("table", "--cols", "tokens,loss", "--json", str(path)).stdout)
    assert [r["tokens"] for r in rows] == [2**53 + 1, 2**53 + 2, 2**53 + 3]  # were floats: ...992.0, 994.0, 996.0
    assert rows[1]["loss"] == "NaN"


def _resumed_after_a_crash() -> list[dict]:
    seg1 = [
        ("run_start", 0, {"pid": 1, "host": "h"}),
        ("phase_start", 1, {"phase": "training", "id": 0}),
        ("phase_start", 2, {"phase": "validation", "id": 1, "parent": 0, "step": 5}),
        ("log", 3, {"level": "info", "msg": "first"}),
    ]  # killed here: both phases left open; the resumed process counts its phase ids from 0 again
    seg2 = [
        ("run_start", 100, {"pid": 2, "host": "h"}),
        ("phase_start", 101, {"phase": "training", "id": 0}),
        ("phase_start", 102, {"phase": "validation", "id": 1, "parent": 0, "step": 6}),
        ("log", 103, {"level": "info", "msg": "second"}),
        ("phase_end", 104, {"phase": "validation", "id": 1, "parent": 0, "status": "ok", "duration": 2.0}),
        ("phase_end", 105, {"phase": "training", "id": 0, "status": "ok", "duration": 4.0}),
        ("run_end", 106, {"status": "completed"}),
    ]
    return [{"event": e, "ts": 1750000000.0 + t, **f} for e, t, f in (*seg1, *seg2)]


def test_phases_of_a_resumed_run_keep_both_processes(tmp_path: Path) -> None:
    path = _write(tmp_path / "run.jsonl", _resumed_after_a_crash())
    rows = orjson.loads(cli("phases", "--json", str(path)).stdout)["phases"]
    got = [(r["phase"], r["step"], r["status"], r["depth"]) for r in rows]
    assert got == [  # was: the second process's phases twice, the first process's lost
        ("training", None, "interrupted", 0),
        ("validation", 5, "interrupted", 1),
        ("training", None, "ok", 0),
        ("validation", 6, "ok", 1),
    ]
    assert rows[0]["duration"] < 10  # timed within its own process, not to the end of the file (105 s)
    shown = cli("grep", "second", str(path)).stdout
    assert "[training > validation step 6]" in shown  # was nested under the first process's open phases


def test_watch_of_a_resumed_run_is_not_over_and_not_inside_the_killed_process_phases(tmp_path: Path) -> None:
    resumed = [
        {"event": "run_start", "ts": 1750000000.0, "pid": 1, "host": "h"},
        {"event": "run_end", "ts": 1750000005.0, "status": "completed", "duration": 5.0},
        {"event": "run_start", "ts": 1750000100.0, "pid": 2, "host": "h"},
        {"event": "step_metrics", "ts": 1750000102.0, "step": 3, "metrics": {"loss": 0.5}},
    ]
    shown = cli("watch", "--once", str(_write(tmp_path / "run.jsonl", resumed))).stdout
    assert "run completed" not in shown  # was: the first process's run_end, while the second one runs
    crashed = cli("watch", "--once", str(_write(tmp_path / "crashed.jsonl", _resumed_after_a_crash()))).stdout
    assert crashed.count("never ended (interrupted)") == 2  # the killed process's training and validation
    assert "run completed" in crashed


def test_grep_places_a_log_in_the_phase_it_names(tmp_path: Path) -> None:
    """Threads interleave their phases in the file: a log's phase_id, not the file's last open phase, places it."""
    events = [
        {"event": "phase_start", "phase": "training", "id": 0},
        {"event": "phase_start", "phase": "training_step", "id": 1, "parent": 0, "step": 1},
        {"event": "phase_start", "phase": "rollout_worker", "id": 2, "parent": 1, "worker": 0},
        {"event": "phase_start", "phase": "rollout_worker", "id": 3, "parent": 1, "worker": 1},
        {"event": "log", "level": "info", "msg": "from the loop", "phase_id": 1},
        {"event": "log", "level": "info", "msg": "from worker 0", "phase_id": 2},
        {"event": "phase_end", "phase": "rollout_worker", "id": 2, "parent": 1, "status": "ok", "duration": 1.0},
        {"event": "log", "level": "info", "msg": "from worker 1", "phase_id": 3},
        {"event": "phase_end", "phase": "rollout_worker", "id": 3, "parent": 1, "status": "ok", "duration": 1.0},
        {"event": "log", "level": "info", "msg": "after the workers"},
    ]
    shown = cli("grep", "from|after", str(_write(tmp_path / "run.jsonl", events))).stdout.splitlines()
    assert shown == [
        "> [training > training_step[1] step 1] • from the loop",  # was inside both workers' phases
        "> [training > training_step[1] > rollout_worker step 1] • from worker 0",
        "> [training > training_step[1] > rollout_worker step 1] • from worker 1",  # worker 0's end closed it
        "> [training > training_step[1] step 1] • after the workers",
    ]


def test_two_evals_of_one_split_at_a_step_keep_both_metrics(tmp_path: Path) -> None:
    events = []
    for s, acc in ((10, 0.5), (20, 0.9), (30, 0.7)):
        events.append({"event": "eval_summary", "step": s, "split": "val", "metrics": {"accuracy": acc}})
        events.append({"event": "eval_summary", "step": s, "split": "val", "metrics": {"f1": acc / 2}})
    path = _write(tmp_path / "run.jsonl", events)
    data = orjson.loads(cli("summary", "--json", str(path)).stdout)["runs"][0]
    metrics = {m["metric"]: (m["last"], m["best"], m["best_step"]) for m in data["metrics"]}
    assert metrics["eval.accuracy"] == (0.7, 0.9, 20)  # was missing: the second event of each step replaced it
    assert metrics["eval.f1"] == (0.35, 0.45, 20)
    flat = orjson.loads(cli("eval", "--json", str(path)).stdout)
    assert (flat["accuracy"], flat["f1"]) == (0.7, 0.35)
    resumed = [  # a step logged again after a resume: its later value wins, a metric only the first had is kept
        {"event": "step_metrics", "step": 1, "metrics": {"loss": 0.9, "kl": 0.1}},
        {"event": "step_metrics", "step": 1, "metrics": {"loss": 0.8}},
    ]
    rows = orjson.loads(cli("table", "--json", "--cols", "loss,kl", str(_write(tmp_path / "r.jsonl", resumed))).stdout)
    assert [(r["step"], r["loss"], r["kl"]) for r in rows] == [(1, 0.8, 0.1)]


def test_validate_accepts_the_bare_nan_every_reading_command_accepts(tmp_path: Path) -> None:
    import json

    events = [
        {"event": "step_metrics", "step": s, "metrics": {"loss": [0.5, math.nan, -math.inf][s]}} for s in range(3)
    ]
    text = "\n".join(
        json.dumps({"v": 1, "ts": 1.0 + i, "run": "r", "rank": 0, "seq": i, **e}) for i, e in enumerate(events)
    )
    (tmp_path / "run.jsonl").write_text(text + "\n{not json}\n")
    result = cli("validate", str(tmp_path / "run.jsonl"))
    assert result.exit_code == 1
    assert ":4: not valid JSON" in result.stdout  # the real damage is still named
    assert ":2:" not in result.stdout and ":3:" not in result.stdout  # were "not valid JSON" and a seq gap
    assert "seq gap" not in result.stdout


def test_a_gzip_file_cut_short_is_read_up_to_the_cut(tmp_path: Path) -> None:
    import gzip

    plain = _write(tmp_path / "run.jsonl", _steps_of(400))
    packed = gzip.compress(plain.read_bytes())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) // 2])  # a run gzipped while it was written, or a copy cut short
    result = cli("table", "--json", "--cols", "loss", str(cut))
    assert result.exit_code == 0  # was: "cannot decompress (Compressed file ended ...)", nothing read
    steps = [r["step"] for r in orjson.loads(result.stdout)]
    assert steps == list(range(1, len(steps) + 1)) and 10 < len(steps) < 400
    assert "the gzip stream ends early" in result.stderr
    members = tmp_path / "members.jsonl.gz"  # two gzip members one after the other, then NUL padding
    text = plain.read_bytes()
    members.write_bytes(gzip.compress(text[:5000]) + gzip.compress(text[5000:]) + b"\0" * 8)
    whole = cli("table", "--json", "--cols", "loss", str(members))
    assert [r["step"] for r in orjson.loads(whole.stdout)] == list(range(1, 401))
    assert "ends early" not in whole.stderr


def test_grep_over_several_ranks_names_the_rank(tmp_path: Path) -> None:
    for rank in (0, 1):
        name = "events.jsonl" if rank == 0 else "events.rank1.jsonl"
        _write(
            tmp_path / name, [{"event": "log", "rank": rank, "level": "warning", "msg": "disk slow", "ts": 5.0 + rank}]
        )
    lines = cli("grep", "disk", str(tmp_path)).stdout.splitlines()
    assert lines == ["> [rank 0: -] ! disk slow", "> [rank 1: -] ! disk slow"]  # were two identical lines
    one = cli("grep", "disk", "--rank", "1", str(tmp_path)).stdout
    assert "rank" not in one


def test_samples_wrong_says_how_many_samples_do_not_say_whether_they_are_correct(tmp_path: Path) -> None:
    samples = [
        {"event": "sample", "step": 1, "prompt": "p", "completion": "c", "golden": ["5"], "extracted": x, **c}
        for x, c in (("5", {"correct": True}), ("6", {"correct": False}), ("6", {}), ("7", {}))
    ]
    result = cli("samples", "--wrong", str(_write(tmp_path / "run.jsonl", samples)))
    assert result.stdout.count("✗ wrong") == 1
    assert "note: 2 sample(s) without a correct field are left out" in result.stderr  # was silent
    assert "note:" not in cli("samples", str(tmp_path / "run.jsonl")).stderr


def test_a_whole_float_step_is_that_step_everywhere(tmp_path: Path) -> None:
    events = []
    for s in (1.0, 2.0, 3.0):  # another writer's steps as floats
        events.append({"event": "step_metrics", "step": s, "metrics": {"loss": s}})
        events.append({"event": "log", "level": "warning", "msg": f"warn at {s}", "step": s})
    path = str(_write(tmp_path / "run.jsonl", events))
    assert "> [- step 2] ! warn at 2.0" in cli("grep", "warn at 2", path).stdout  # was no step at all
    replayed = cli("replay", "--steps", "2:2", "--event", "log", path).stdout
    assert "warn at 2.0" in replayed and "warn at 1.0" not in replayed  # was nothing
    summary = orjson.loads(cli("summary", "--json", path).stdout)["runs"][0]
    loss = next(m for m in summary["metrics"] if m["metric"] == "step.loss")
    assert (loss["last_step"], type(loss["last_step"])) == (3, int)  # was 3.0


def test_two_processes_of_one_rank_logging_the_same_steps_are_named(tmp_path: Path) -> None:
    """Children started without init(rank=...) inherit rank 0 and write files of their own."""
    for pid, base in ((101, 1), (102, 11)):
        steps = [{"event": "step_metrics", "step": s, "metrics": {"loss": base + s}} for s in (1, 2)]
        _write(tmp_path / f"events.rank0.pid{pid}.jsonl", steps)
    table = cli("table", str(tmp_path))
    assert "2 step(s) of one rank were logged by 2 processes" in table.stderr  # was: one process's rows, silently
    assert "events.rank0.pid101.jsonl, events.rank0.pid102.jsonl" in table.stderr
    summary = orjson.loads(cli("summary", "--json", str(tmp_path)).stdout)["runs"][0]
    assert any("logged by 2 processes" in w for w in summary["warnings"])
    alone = cli("table", str(tmp_path / "events.rank0.pid101.jsonl"))
    assert "processes" not in alone.stderr


def test_trend_takes_the_name_the_loop_logged_for_an_eval_metric(tmp_path: Path) -> None:
    """Lightning's self.log("val_loss") is recorded as the val split's loss; trend val_loss was 'no metric'."""
    events = [
        {"event": "step_metrics", "step": 1, "metrics": {"loss": 0.9}},
        {"event": "eval_summary", "step": 1, "split": "val", "metrics": {"loss": 0.8}},
        {"event": "eval_summary", "step": 1, "split": "test", "metrics": {"loss": 0.7}},
    ]
    path = str(_write(tmp_path / "run.jsonl", events))
    result = cli("trend", "--json", "val_loss", path)
    assert result.exit_code == 0, result.output
    assert [r["value"] for r in orjson.loads(result.stdout)["rows"]] == [0.8]  # the val split alone
    assert "val_loss is recorded as eval.loss of split val" in result.stderr
    assert cli("trend", "val_lss", path).exit_code == 1  # a typo is still an error


def test_a_number_too_wide_for_its_column_is_never_cut() -> None:
    """1e10 was '1000000…' (read as a million), -1.2345e-05 '-1.234e-…' (read as -1.234), lr 1e-6 '0.0000'."""
    from eventlog._columns import Column, StepTable

    reward = Column("reward_mean", 8, "reward", "f4")
    cases = {1e10: "1e+10", -1.2345e-05: "-1.2e-05", 5e-324: "4.9e-324", 1e-6: "1e-06", 0.5: "0.5000", 0.0: "0.0000"}
    for v, text in cases.items():
        for cell in (reward.format({"reward_mean": v}), reward.compile()({"reward_mean": v}), reward.cells([v])[0]):
            assert cell.strip() == text, (v, cell)
    count = Column("stale", 5, "stale", "d")
    assert count.format({"stale": 250000}) == count.cells([250000])[0] == "250000"  # past the column, whole
    passes = Column("gt_s", 6, "gt_s", "frac")
    assert passes.format({"gt_s": (128, 256)}) == passes.cells([128], [256])[0] == "128/256"  # was "128"
    assert Column("note", 6, "note", "s").format({"note": "a long text"}) == "a lon…"  # text is still cut
    row = StepTable([Column("step", 4, "step", "d"), reward]).row({"step": 1, "reward_mean": 1e10})
    assert row.split() == ["1", "1e+10"]


def test_the_console_keeps_names_on_one_line_and_small_values_visible(tmp_path: Path) -> None:
    """A metric or phase name with a newline printed a line of its own (a fake '[META] PHASE' banner for the seeds'
    grep recipes); the banner's metrics line wrote lr=1e-06 as lr=0.000."""
    from conftest import run_python

    code = f"""
import eventlog
eventlog.init({str(tmp_path / "run")!r}, run="r", console="banner")
with eventlog.phase("validation", label="VAL\\n[META] PHASE: TRAINING STEP"):
    pass
eventlog.emit("step_metrics", step=1, metrics={{"k\\n[META] PHASE: TRAINING STEP": 2.0, "lr": 1e-6, "kl": 0.012}})
eventlog.finish()
"""
    out = run_python(code).stdout
    assert not any(line.startswith("[META] PHASE: TRAINING STEP") for line in out.splitlines())
    assert "k\\n[META] PHASE: TRAINING STEP=2.000" in out and "VAL\\n[META]" in out
    assert "kl=0.012" in out and "lr=1e-06" in out  # the seed's 3 decimals where they show the value


def test_one_value_that_cannot_be_stored_keeps_the_rest_of_its_field(tmp_path: Path) -> None:
    """A Decimal in a metrics map, a dtype-like object in a config: the whole field was stored as one repr() string
    (the good loss lost); now only that value is its repr(), and a Path is its text."""
    import decimal
    import pathlib
    import warnings

    import eventlog
    from conftest import read_events

    class DType:  # what torch.bfloat16 is to orjson: an object it cannot store
        def __repr__(self) -> str:
            return "torch.bfloat16"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eventlog.init(tmp_path / "run", run="r", console="off", strict=False)
        eventlog.emit("config_update", config={"dtype": DType(), "path": pathlib.Path("/data/x"), "lr": 3e-4})
        eventlog.emit("step_metrics", step=1, metrics={"loss": 1.0, "dec": decimal.Decimal("0.1")})
        eventlog.finish()
    events = {e["event"]: e for e in read_events(tmp_path / "run" / "events.jsonl")}
    assert events["config_update"]["config"] == {"dtype": "torch.bfloat16", "path": "/data/x", "lr": 3e-4}
    assert events["step_metrics"]["metrics"] == {"loss": 1.0, "dec": "Decimal('0.1')"}  # was one string


def test_report_says_whose_metrics_its_charts_show(tmp_path: Path) -> None:
    for rank in (0, 1):
        name = "events.jsonl" if rank == 0 else "events.rank1.jsonl"
        steps = [
            {"event": "step_metrics", "rank": rank, "step": s, "metrics": {"loss": 100 * rank + s}} for s in (1, 2)
        ]
        _write(tmp_path / name, steps)
    result = cli("report", str(tmp_path), "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 0
    assert "ranks 0, 1 logged metrics; the charts show rank 0's" in result.stderr  # was silent (help: every rank)
    one = cli("report", str(tmp_path), "--rank", "1", "--out", str(tmp_path / "r1.html"))
    assert "note:" not in one.stderr
