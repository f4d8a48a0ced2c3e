"""What a user following the README met: the README's own loop, and other answers that were wrong or missing."""

from __future__ import annotations

import io
from pathlib import Path

import orjson

import eventlog
from conftest import cli, read_events


def _readme_loop(directory: Path, stream: io.StringIO) -> None:
    """The README's loop: the epoch and the totals are given to the phases, not to step_metrics."""
    eventlog.init(directory, run="exp1", console="compact", console_stream=stream)
    with eventlog.phase("training", total_steps=4, total_epochs=2) as training:
        for step in range(1, 5):
            with training.step_phase(step, epoch=1 + (step - 1) // 2):
                eventlog.emit("step_metrics", step=step, metrics={"loss": 1.0 / step})
                if step == 3:  # a late value of the step before: not given this step's epoch
                    eventlog.emit("step_metrics", step=2, metrics={"kl": 0.5})
        eventlog.emit("step_metrics", step=5, metrics={"loss": 0.1})  # outside any step phase
    with eventlog.phase("training", total_steps=9) as again, again.step_phase(6, epoch=3):
        eventlog.emit("step_metrics", step=6, epoch=2.5, metrics={"loss": 0.1})  # the caller's epoch wins
    eventlog.finish()


def test_step_metrics_in_a_step_phase_take_its_epoch_and_totals(tmp_path: Path) -> None:
    """The README's loop showed `ep nan` and `step 1` (not `1/4`) in the compact table, and `table` showed `-`."""
    stream = io.StringIO()
    _readme_loop(tmp_path / "run", stream)
    rows = [ln.split() for ln in stream.getvalue().splitlines() if ln.strip().startswith(("1/4", "4/4"))]
    assert [r[:2] for r in rows] == [["1/4", "1/2"], ["4/4", "2/2"]]
    got = [
        (e["step"], e.get("epoch"), e.get("total_epochs"), e.get("total_steps"))
        for e in read_events(tmp_path / "run" / "events.jsonl")
        if e["event"] == "step_metrics"
    ]
    assert got == [
        (1, 1, 2, 4),
        (2, 1, 2, 4),
        (3, 2, 2, 4),
        (2, None, None, None),  # emitted in step 3's phase: its epoch is not step 2's to know
        (4, 2, 2, 4),
        (5, None, None, None),
        (6, 2.5, None, 9),
    ]
    table = orjson.loads(cli("table", "--json", "--cols", "step,epoch,loss", str(tmp_path / "run")).stdout)
    assert [(r["step"], r["epoch"]) for r in table] == [(1, 1), (2, 1), (3, 2), (4, 2), (5, None), (6, 2.5)]


def test_a_phase_whose_end_was_lost_ends_by_its_parent_and_the_next_step(tmp_path: Path) -> None:
    """A lost phase_end (a damaged line) timed the phase to the end of the run: 0.9 s for a 0.1 s step inside a
    0.3 s training phase, and summary put training_step at 155% of the run."""
    from conftest import write_events

    def ph(ts: float, what: str, name: str, pid: int, parent: int | None = None, **kw: object) -> dict:
        ev = {"ts": ts, "event": what, "phase": name, "id": pid, **kw}
        return ev if parent is None else {**ev, "parent": parent}

    events = [
        {"ts": 0.0, "event": "run_start"},
        ph(0.0, "phase_start", "training", 0),
        ph(0.0, "phase_start", "training_step", 1, 0, step=1),
        ph(0.1, "phase_end", "training_step", 1, 0, step=1, status="ok", duration=0.1),
        ph(0.1, "phase_start", "training_step", 2, 0, step=2),  # its phase_end is lost
        ph(0.2, "phase_start", "training_step", 3, 0, step=3),
        ph(0.3, "phase_end", "training_step", 3, 0, step=3, status="ok", duration=0.1),
        ph(0.3, "phase_start", "validation", 4, 0),  # never closed: timed to its parent's end
        ph(0.35, "phase_end", "training", 0, status="ok", duration=0.35),
        ph(0.4, "phase_start", "post", 5),
        ph(1.0, "phase_end", "post", 5, status="ok", duration=0.6),
        {"ts": 1.0, "event": "run_end", "status": "completed", "duration": 1.0},
    ]
    for i, ev in enumerate(events):
        ev.update(v=1, run="r", rank=0, seq=i)
    path = write_events(tmp_path / "run.jsonl", events)
    rows = orjson.loads(cli("phases", "--all", "--json", str(path)).stdout)["phases"]
    got = {(r["phase"], r["step"]): round(r["duration"], 3) for r in rows}
    assert got[("training_step", 2)] == 0.1  # was 0.9: up to the run's last event
    assert got[("validation", None)] == 0.05  # was 0.7
    assert got[("training", None)] == 0.35
    text = cli("summary", str(path)).stdout
    share = next(line.split()[-1] for line in text.splitlines() if line.startswith("training_step"))
    assert float(share.rstrip("%")) <= 100


def test_a_phase_left_open_when_its_run_finished_is_not_the_next_runs_parent(tmp_path: Path) -> None:
    """finish() inside a `with phase` (a sweep that runs trials in one process) closed the phase, but the next
    run's phases nested under it: `initialization step 1` in the console, `parent` and `step` in the file."""
    eventlog.init(tmp_path / "a", run="a", console="off")
    eventlog.phase("training").__enter__()
    eventlog.phase("training_step", step=1).__enter__()
    eventlog.finish()
    eventlog.init(tmp_path / "b", run="b", console="off")
    with eventlog.phase("initialization"):
        eventlog.get_logger("t").info("hello")
    assert eventlog.current_phase() is None
    eventlog.finish()
    got = [e for e in read_events(tmp_path / "b" / "events.jsonl") if e["event"] in ("phase_start", "log")]
    assert [("parent" in e, "step" in e) for e in got] == [(False, False), (False, False)]


def test_a_huge_config_update_is_cut_on_the_console_and_whole_in_the_file(tmp_path: Path) -> None:
    """A 3 MB config_update (a tokenizer config) was printed whole to the console, and by replay and grep."""
    stream = io.StringIO()
    eventlog.init(tmp_path / "run", run="r", console_stream=stream)
    eventlog.emit("config_update", config={"tokenizer": "y" * 3_000_000, "n": 3})
    eventlog.get_logger("t").info("hello", blob="q" * 3000)
    eventlog.finish()
    lines = stream.getvalue().splitlines()
    update = next(ln for ln in lines if "config_update" in ln)
    assert len(update) < 600 and update.endswith("… (+2,999,522 chars)")
    log = next(ln for ln in lines if "hello" in ln)
    assert len(log) < 600 and log.endswith("… (+2,500 chars)")
    saved = next(e for e in read_events(tmp_path / "run" / "events.jsonl") if e["event"] == "config_update")
    assert len(saved["config"]["tokenizer"]) == 3_000_000
    replay = cli("replay", str(tmp_path / "run")).stdout
    assert max(map(len, replay.splitlines())) < 600


def test_line_and_paragraph_separators_are_shown_as_escapes() -> None:
    """U+2028 and U+2029 reached the terminal as they are (a line break in some terminals and in pagers)."""
    from eventlog._text import label, sanitize

    assert sanitize("a\u2028b\u2029c") == "a\\u2028b\\u2029c"
    assert label("loss\u2028[META] PHASE: TRAINING STEP") == "loss\\u2028[META] PHASE: TRAINING STEP"


def test_the_step_eta_counts_the_validation_between_steps(tmp_path: Path, clock: object) -> None:
    """1 s steps with a 5 s validation every 5 steps: the ETA was the mean step time alone, half the time left."""
    eventlog.init(tmp_path / "run", run="r", console="off")
    with eventlog.phase("training", total_steps=40) as tr:
        for step in range(1, 41):
            with tr.step_phase(step, epoch=1):
                clock.advance(1.0)  # type: ignore[attr-defined]
            if step % 5 == 0:
                with eventlog.phase("validation"):
                    clock.advance(5.0)  # type: ignore[attr-defined]
    eventlog.finish()
    starts = {
        e["step"]: e
        for e in read_events(tmp_path / "run" / "events.jsonl")
        if e["event"] == "phase_start" and e["phase"] == "training_step"
    }
    end = 40 * 1.0 + 8 * 5.0  # the phase's own clock: when the last validation ends
    for step in (11, 21, 31):
        left = end - starts[step]["elapsed"]
        assert abs(starts[step]["eta"] - left) <= 0.15 * left, (step, starts[step]["eta"], left)  # was about half


def test_a_phase_object_used_again_is_a_new_phase_each_time(tmp_path: Path) -> None:
    """`val = phase("validation")` used every epoch: the second use lost its phase_end (closed `interrupted` at
    finish), the third raised RecursionError (the phase had become its own parent) and failed the run."""
    eventlog.init(tmp_path / "run", run="r", console="off")
    val = eventlog.phase("validation")
    for _ in range(3):
        with val:
            pass
    eventlog.finish()
    events = read_events(tmp_path / "run" / "events.jsonl")
    ends = [(e["id"], e["status"]) for e in events if e["event"] == "phase_end"]
    assert ends == [(0, "ok"), (1, "ok"), (2, "ok")]
    assert all("parent" not in e for e in events if e["event"] == "phase_start")
    assert events[-1]["status"] == "completed"


def test_numpy_and_whole_float_totals_give_progress_and_eta(tmp_path: Path) -> None:
    """total_steps=np.int64(3) turned the ETA off and left total_steps out of run_start; np.ceil(2.5) the percent."""
    import numpy as np

    eventlog.init(tmp_path / "run", run="r", console="off", config={"total_steps": np.int64(3)})
    with eventlog.phase("training", total_steps=np.int64(3), total_epochs=np.ceil(0.5)) as tr:
        for step in range(1, 4):
            with tr.step_phase(step, epoch=1):
                pass
    with eventlog.phase("validation", total_batches=np.int32(2)) as v:
        v.val_batch(1)
        v.val_batch(2)
    eventlog.finish()
    events = read_events(tmp_path / "run" / "events.jsonl")
    assert events[0]["total_steps"] == 3
    steps = [e for e in events if e["event"] == "phase_start" and e["phase"] == "training_step"]
    assert [(e["total_steps"], e["total_epochs"]) for e in steps] == [(3, 1)] * 3
    assert all("eta" in e for e in steps[1:])
    assert all("eta" in e for e in events if e["event"] == "val_batch")


def test_thread_and_task_phases_are_not_nested_under_a_sibling(tmp_path: Path) -> None:
    """With no phase open on the main thread, a worker thread's phase (or a sibling asyncio task's) took another
    worker's open phase as its parent."""
    import asyncio
    import threading

    eventlog.init(tmp_path / "run", run="r", console="off")
    inside = threading.Event()
    go_on = threading.Event()

    def first() -> None:
        with eventlog.phase("load0"):
            inside.set()
            go_on.wait(5)

    t = threading.Thread(target=first)
    t.start()
    inside.wait(5)
    second = threading.Thread(target=lambda: eventlog.phase("load1").__enter__().__exit__(None, None, None))
    second.start()
    second.join()
    go_on.set()
    t.join()

    async def task(name: str, delay: float) -> None:
        with eventlog.phase(name):
            await asyncio.sleep(delay)

    async def both() -> None:
        await asyncio.gather(task("a", 0.05), task("b", 0.01))

    asyncio.run(both())
    eventlog.finish()
    starts = [e for e in read_events(tmp_path / "run" / "events.jsonl") if e["event"] == "phase_start"]
    got = [(e["phase"], e.get("parent")) for e in starts]
    assert got == [("load0", None), ("load1", None), ("a", None), ("b", None)]


def test_a_cancelled_asyncio_phase_is_interrupted_not_failed(tmp_path: Path) -> None:
    """wait_for's timeout (or Ctrl-C under asyncio.run) cancels a task: its phases were `failed` with
    `CancelledError: ` and summary listed each as a failure."""
    import asyncio

    eventlog.init(tmp_path / "run", run="r", console="off")

    async def rollout() -> None:
        with eventlog.phase("rollout"):
            await asyncio.sleep(30)

    async def main() -> None:
        try:
            await asyncio.wait_for(rollout(), 0.05)
        except TimeoutError:
            pass

    asyncio.run(main())
    eventlog.finish()
    ends = [e for e in read_events(tmp_path / "run" / "events.jsonl") if e["event"] == "phase_end"]
    assert [(e["phase"], e["status"], "error" in e) for e in ends] == [("rollout", "interrupted", False)]


def test_plot_of_a_long_metric_name_or_values_near_the_float_limit_is_no_traceback(tmp_path: Path) -> None:
    """plot with a 300-character metric name raised OSError (File name too long); values of ±1e308 a ValueError
    from matplotlib's tight_layout."""
    from conftest import write_events

    long = "x" * 300
    events = [
        {"event": "step_metrics", "step": s, "metrics": {"huge": h, long: s}}
        for s, h in ((1, 1e308), (2, -1e308), (3, 5.0))
    ]
    path = write_events(tmp_path / "run.jsonl", events)
    drawn = cli("plot", long, str(path), "-o", str(tmp_path / "long.png"))
    assert drawn.exit_code == 0 and (tmp_path / "long.png").stat().st_size > 0
    assert "Warning" not in drawn.output
    huge = cli("plot", "huge", str(path), "-o", str(tmp_path / "huge.png"))
    assert huge.exit_code == 1
    assert "Traceback" not in huge.output
    assert "cannot draw these values" in huge.output and "trend METRIC --json" in huge.output


def test_one_step_written_as_text_does_not_make_every_step_text(tmp_path: Path) -> None:
    """One line with "step": "13" made the step column text: summary said `steps 9`, table --last 3 showed steps
    7, 8, 9, trend and plot ordered steps 1, 10, 11, 12, 13, 2, ... and --json wrote every step as a string."""
    from conftest import write_events

    events = [{"event": "step_metrics", "step": s, "metrics": {"loss": 1 / s}} for s in range(1, 13)]
    events.append({"event": "step_metrics", "step": "13", "metrics": {"loss": 1 / 13}})
    path = write_events(tmp_path / "run.jsonl", events)
    table = cli("table", "--json", "--cols", "step,loss", str(path))
    assert [r["step"] for r in orjson.loads(table.stdout)] == [*range(1, 13), None]
    assert "step: 1 value(s) are not numbers (line 13); shown as empty" in table.stderr
    summary = orjson.loads(cli("summary", "--json", str(path)).stdout)
    assert summary["runs"][0]["steps_done"] == 12
    trend = cli("trend", "loss", str(path)).stdout
    assert "None" not in trend
    assert [ln.split()[0] for ln in trend.splitlines() if ln.strip()[:2].strip().isdigit()][:3] == ["1", "2", "3"]


def test_export_keeps_payload_fields_named_n_file_and_source_dir(tmp_path: Path) -> None:
    """export dropped a sample's (group_summary's, log's) own `n` and `file` fields with its internal columns, and
    over several directories a payload `source_dir` hid the directory column."""
    import polars as pl

    from conftest import write_events

    for k, d in enumerate(("x1", "x2")):
        (tmp_path / "runs" / d).mkdir(parents=True)
        write_events(
            tmp_path / "runs" / d / "events.jsonl",
            [
                {"event": "sample", "step": 1, "output": "hi", "n": 5 + k, "file": f"p{k}.txt", "source_dir": "own"},
                {"event": "log", "level": "info", "msg": "m", "n": 42, "file": "train.py"},
            ],
        )
    result = cli("export", "--out", str(tmp_path / "out"), str(tmp_path / "runs" / "*"))
    assert result.exit_code == 0, result.output
    assert "source_dir field is exported as payload.source_dir" in result.stderr
    sample = pl.read_parquet(tmp_path / "out" / "sample.parquet")
    got = sample.select("source_dir", "payload.source_dir", "n", "file").rows()
    runs = tmp_path / "runs"
    assert got == [(str(runs / "x1"), "own", 5, "p0.txt"), (str(runs / "x2"), "own", 6, "p1.txt")]
    log = pl.read_parquet(tmp_path / "out" / "log.parquet")
    assert log.select("n", "file").rows() == [(42, "train.py")] * 2


def test_init_again_after_a_cell_that_raised_records_the_first_run_failed(tmp_path: Path) -> None:
    """A notebook cell raised inside the training phase (no excepthook runs in a notebook), then the cell ran again:
    init() ended the first run `completed`, with no error."""

    def cell(fail: bool) -> None:
        eventlog.init(tmp_path / "run", run="nb", console="off")
        with eventlog.phase("training", total_steps=3) as tr:
            for step in (1, 2):
                with tr.step_phase(step, epoch=1):
                    if fail and step == 2:
                        raise RuntimeError("CUDA OOM")

    try:
        cell(True)
    except RuntimeError:
        pass
    cell(False)
    eventlog.finish()
    ends = [e for e in read_events(tmp_path / "run" / "events.jsonl") if e["event"] == "run_end"]
    assert [(e["status"], e.get("error")) for e in ends] == [("failed", "RuntimeError: CUDA OOM"), ("completed", None)]


def test_hf_test_and_eval_sets_of_one_name_are_two_splits() -> None:
    """`test_squad_*` (evaluate(metric_key_prefix="test") on a named set) and `eval_squad_*` at one step were one
    split `squad`: eval showed the test numbers as the eval's, and the eval's were gone."""
    from eventlog.integrations._common import hf_eval_records

    logs = {"step": 6, "epoch": 1.0}
    for prefix, loss in (("eval_squad", 0.9), ("test_squad", 0.2), ("val_a", 0.5)):
        logs.update({f"{prefix}_loss": loss, f"{prefix}_runtime": 1.0, f"{prefix}_samples_per_second": 10.0})
    got = {split: metrics["loss"] for split, (metrics, _) in hf_eval_records(logs).items()}
    assert got == {"squad": 0.9, "test_squad": 0.2, "val_a": 0.5}


def test_watch_of_two_ranks_is_over_when_the_shown_rank_ends_and_a_dead_rank_stalls() -> None:
    """Rank 1's run_end made watch say `run completed` (and a piped watch exit) while rank 0 still trained; a
    killed rank 0 never stalled while rank 1 wrote, and then showed rank 1's `completed`."""
    from eventlog_cli.query.watch import WatchState

    def line(rank: int, seq: int, event: str, **kw: object) -> bytes:
        return orjson.dumps({"v": 1, "ts": 100.0 + seq, "event": event, "run": "r", "rank": rank, "seq": seq, **kw})

    state = WatchState(stall_after=5)
    state.feed_line(line(0, 0, "run_start"), "events.jsonl", now=0.0)
    state.feed_line(line(1, 0, "run_start"), "events.rank1.jsonl", now=0.0)
    state.feed_line(line(0, 1, "phase_start", phase="training", id=0), "events.jsonl", now=1.0)
    worker = line(1, 1, "run_start", parent_pid=9)  # a DataLoader worker of rank 1: its end is not the run's
    state.feed_line(worker, "events.rank1.pid9.jsonl", now=1.0)
    state.feed_line(line(1, 2, "run_end", status="completed"), "events.rank1.pid9.jsonl", now=1.0)
    state.feed_line(line(1, 1, "run_end", status="completed", duration=1.0), "events.rank1.jsonl", now=2.0)
    assert state.ended is None and [p.name for p in state.stack] == ["training"]  # rank 0 still trains
    for t in range(3, 20):  # rank 0 was killed; rank 1's other process keeps writing
        state.feed_line(line(2, t, "log", msg="x"), "events.rank2.jsonl", now=float(t))
        state.tick(float(t))
    assert state.stalled is not None and "no event for" in state.stalled
    state.feed_line(line(0, 2, "run_end", status="completed", duration=9.0), "events.jsonl", now=20.0)
    assert state.ended is not None and state.ended["duration"] == 9.0
    assert state.still_running() == []  # rank 2 never had a main-process run_start here
    early = WatchState()
    early.feed_line(line(0, 0, "run_start"), "events.jsonl", now=0.0)
    early.feed_line(line(1, 0, "run_start"), "events.rank1.jsonl", now=0.0)
    early.feed_line(line(0, 1, "run_end", status="completed"), "events.jsonl", now=1.0)
    assert early.ended is not None and early.still_running() == [1]  # a piped watch waits for rank 1


def test_verl_tensor_on_a_device_is_its_number(tmp_path: Path) -> None:
    """`actor/grad_norm:tensor(0.5, device='cuda:0')` was cut at the device's colon: the metric was lost and a log
    event got a mangled key."""
    log = tmp_path / "verl.log"
    log.write_text(
        "step:1 - actor/pg_loss:-0.25 - actor/grad_norm:tensor(0.5, device='cuda:0') - critic/score/mean:0.75\n"
        "step:2 - actor/pg_loss:-0.5 - actor/grad_norm:tensor(1.5, device='cuda:1') - critic/score/mean:0.5\n"
    )
    result = cli("import", str(log), "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    events = read_events(tmp_path / "run" / "events.jsonl")
    steps = [e["metrics"] for e in events if e["event"] == "step_metrics"]
    assert [m["actor/grad_norm"] for m in steps] == [0.5, 1.5]
    assert [m["actor/pg_loss"] for m in steps] == [-0.25, -0.5]
    assert not [e for e in events if e["event"] == "log"]


def _tb_run(
    logdir: Path, steps: range, walltime0: float, tags: tuple[str, ...] = ("train/loss",), base: float = 10.0
) -> None:
    import pytest

    tb = pytest.importorskip("torch.utils.tensorboard")
    w = tb.SummaryWriter(log_dir=str(logdir))
    for step in steps:
        for k, tag in enumerate(tags):
            w.add_scalar(tag, base * (k + 1) + step, step, walltime=walltime0 + step)
    w.close()


def test_tensorboard_file_cut_short_or_damaged_is_named(tmp_path: Path) -> None:
    """A .tfevents file cut in half (or with one bad byte) imported half its scalars as a `completed` run, silently."""
    import time

    _tb_run(tmp_path / "tb", range(1, 101), 1.7e9)
    (src,) = (tmp_path / "tb").iterdir()
    data = src.read_bytes()
    for name, damaged in (
        ("cut", data[: len(data) // 2 + 5]),
        ("bad", data[:600] + bytes([data[600] ^ 0xFF]) + data[601:]),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / src.name).write_bytes(damaged)
        result = cli("import", str(tmp_path / name), "--out", str(tmp_path / f"run_{name}"))
        assert result.exit_code == 0, result.output
        assert "event file(s) cut short or damaged, read up to the damage" in result.stderr, (name, result.stderr)
        assert src.name in result.stderr
    time.sleep(0)
    whole = cli("import", str(tmp_path / "tb"), "--out", str(tmp_path / "run_whole"))
    assert "cut short" not in whole.stderr


def test_tensorboard_clashing_tags_and_a_restart_with_an_earlier_clock(tmp_path: Path) -> None:
    """`train/loss` and `loss` at one step were both imported as `loss` (one lost, no note); a restarted run whose
    clock was behind kept the first run's values although the note said 'the later kept'."""
    _tb_run(tmp_path / "tb", range(1, 3), 1.7e9, tags=("train/loss", "loss"))
    result = cli("import", str(tmp_path / "tb"), "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    steps = [e["metrics"] for e in read_events(tmp_path / "run" / "events.jsonl") if e["event"] == "step_metrics"]
    assert [sorted(m) for m in steps] == [["loss", "train/loss"]] * 2
    assert steps[0]["train/loss"] != steps[0]["loss"]
    _tb_run(tmp_path / "restart", range(1, 6), 1.7e9)
    _tb_run(tmp_path / "restart", range(3, 8), 1.7e9 - 1000, base=100.0)  # written later, its clock 1000 s behind
    result = cli("import", str(tmp_path / "restart"), "--out", str(tmp_path / "run2"))
    assert "the later kept" in result.stderr
    loss = {
        e["step"]: e["metrics"]["loss"]
        for e in read_events(tmp_path / "run2" / "events.jsonl")
        if e["event"] == "step_metrics"
    }
    assert [round(loss[s]) for s in range(1, 8)] == [11, 12, 103, 104, 105, 106, 107]  # steps 3-5 from the later file


def test_import_refuses_a_directory_with_other_event_files_and_leaves_nothing_when_it_fails(tmp_path: Path) -> None:
    """--out holding a run as events.jsonl.gz or a rank file was accepted and the two runs merged; a failed import
    left an empty directory behind."""
    import gzip
    import json

    state = tmp_path / "hf" / "trainer_state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"log_history": [{"loss": 0.5, "step": 1, "epoch": 0.1}], "global_step": 1}))
    for name in ("events.jsonl.gz", "events.rank1.jsonl"):
        out = tmp_path / name.replace(".", "_")
        out.mkdir()
        with gzip.open(out / name, "wb") if name.endswith(".gz") else open(out / name, "wb") as f:
            f.write(b'{"v":1,"ts":1.0,"event":"run_start","run":"x","rank":0,"seq":0}\n')
        result = cli("import", str(state), "--out", str(out))
        assert result.exit_code == 1 and f"already holds event files ({name})" in result.output
        assert not (out / "events.jsonl").exists()
    bad = tmp_path / "bad" / "trainer_state.json"
    bad.parent.mkdir()
    bad.write_text("{not json")
    result = cli("import", str(bad), "--out", str(tmp_path / "new" / "run"))
    assert result.exit_code == 1
    assert not (tmp_path / "new").exists()


def test_samples_of_several_ranks_say_whose_and_the_report_takes_the_latest(tmp_path: Path) -> None:
    """The last N samples were the last rank file's (a slower rank's older steps), shown without a rank label when
    all came from one rank; the report's samples table had no rank column; -n never said how many matched."""
    run = tmp_path / "run"
    run.mkdir()
    for rank, name, t0 in ((0, "events.jsonl", 100.0), (1, "events.rank1.jsonl", 0.0)):
        lines = [{"v": 1, "ts": t0, "event": "run_start", "run": "r", "rank": rank, "seq": 0}]
        for i in range(1, 7):
            lines.append(
                {
                    "v": 1,
                    "ts": t0 + i,
                    "event": "sample",
                    "run": "r",
                    "rank": rank,
                    "seq": i,
                    "step": i,
                    "index": 0,
                    "output": f"r{rank} s{i}",
                    "correct": False,
                }
            )
        (run / name).write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in lines))
    result = cli("samples", "--wrong", "-n", "2", str(run))
    heads = [ln for ln in result.stdout.splitlines() if ln.startswith("──")]
    assert len(heads) == 2 and all(h.startswith("── rank ") for h in heads), heads
    assert "the last 2 of 12 matching samples" in result.stderr
    cli("report", str(run), "--out", str(tmp_path / "r.html"))
    html = (tmp_path / "r.html").read_text()
    assert "<th>run</th><th>rank</th><th>step</th>" in html
    first = html.index('<tr class="sample')
    assert "r0 s6" in html[first : first + 2000]  # the latest first, whatever file it is in


def test_summary_of_a_run_written_seconds_ago_without_run_end_may_still_be_running(tmp_path: Path) -> None:
    """A live run and a dead one both read `interrupted (inferred: no run_end)`; now the first says it may still run."""
    import os

    from conftest import write_events

    path = write_events(tmp_path / "run.jsonl", [{"event": "step_metrics", "step": 1, "metrics": {"loss": 1.0}}])
    live = cli("summary", str(path)).stdout.splitlines()[0]
    assert live.startswith("run r: no run_end yet: running, or stopped ") and live.endswith(" ago (last write)")
    report = cli("report", str(path), "--out", str(tmp_path / "r.html"))
    assert report.exit_code == 0 and "no run_end yet: running, or stopped" in (tmp_path / "r.html").read_text()
    os.utime(path, (0, 0))
    assert cli("summary", str(path)).stdout.splitlines()[0] == "run r: interrupted (inferred: no run_end)"
    data = orjson.loads(cli("summary", "--json", str(path)).stdout)["runs"][0]
    assert data["status"] == "interrupted" and data["status_inferred"] and data["last_write_s"] > 1e9


def test_validate_names_the_metric_that_is_not_a_number(tmp_path: Path) -> None:
    """validate said `field 'metrics' should be an object of numbers, got {'bigint': ...` cut at 200 characters,
    never reaching the key that was wrong."""
    from conftest import write_events

    metrics = {f"metric_{i:02d}": i / 3 for i in range(20)}
    metrics.update(boolv=True, nested={"a": 1})
    path = write_events(tmp_path / "run.jsonl", [{"event": "step_metrics", "step": 1, "metrics": metrics}])
    out = cli("validate", str(path)).output
    assert "field 'metrics' should be an object of numbers: 'boolv' is True, 'nested' is {'a': 1}" in out


def test_groups_decodes_only_the_tables_of_the_step_it_shows(tmp_path: Path) -> None:
    """groups decoded every group_detail (88 s and 1.5 GB on a 1M-event run) to show one step's tables; now only
    the lines that may be of that step are decoded whole, with the same answer for any writer's spelling."""
    lines = []
    for seq, spelled in enumerate(["1", "12", "2.0", "21", "1", " 2"]):
        lines.append(
            f'{{"v":1,"ts":{seq},"event":"group_detail","run":"r","rank":0,"seq":{seq},'
            f'"step":{spelled},"group":{seq},"rewards":[{seq}.5]}}'
        )
    lines.append(
        '{"v":1,"ts":9,"event":"group_detail","run":"r","rank":0,"seq":9,"st\\u0065p":2,"group":9,"rewards":[]}'
    )
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join(lines) + "\n")
    details = orjson.loads(cli("groups", "--json", "--step", "2", str(path)).stdout)["details"]
    assert [d["group"] for d in details] == [2, 5, 9]
    one = orjson.loads(cli("groups", "--json", "--step", "1", str(path)).stdout)["details"]
    assert [d["group"] for d in one] == [0, 4]
    last = orjson.loads(cli("groups", "--json", str(path)).stdout)["details"]  # the last detail's step: 2
    assert [d["group"] for d in last] == [2, 5, 9]
    missing = cli("groups", "--step", "3", str(path))
    assert missing.exit_code == 1 and "steps with them: 1, 2, 12, 21" in missing.output


def test_eventlog_demo_takes_the_options_the_readme_gives_it(tmp_path: Path) -> None:
    """The README makes its runs with `eventlog demo --seed 1 --out runs/seed1 --run demo`: exit 2, no such option."""
    out = tmp_path / "seed1"
    args = ["--seed", "1", "--out", str(out), "--run", "demo", "--style", "off", "--delay", "0", "--steps", "4"]
    result = cli("demo", *args, "--eval-every", "2")
    assert result.exit_code == 0, result.output
    start = read_events(out / "events.jsonl")[0]
    assert start["run"] == "demo" and start["config"]["seed"] == 1 and start["config"]["eval_every"] == 2


def test_the_reports_duration_is_the_one_summary_gives(tmp_path: Path) -> None:
    """Rank 1 ran 77 s and rank 0 60 s: the report's header said 1.3m (rank 1's), summary 1.0m (rank 0's)."""
    run = tmp_path / "run"
    run.mkdir()
    for rank, name, end in ((0, "events.jsonl", 60.0), (1, "events.rank1.jsonl", 77.0)):
        lines = [
            {"v": 1, "ts": 1000.0, "event": "run_start", "run": "r", "rank": rank, "seq": 0},
            {
                "v": 1,
                "ts": 1001.0,
                "event": "step_metrics",
                "run": "r",
                "rank": rank,
                "seq": 1,
                "step": 1,
                "metrics": {"loss": 1.0},
            },
            {
                "v": 1,
                "ts": 1000.0 + end,
                "event": "run_end",
                "run": "r",
                "rank": rank,
                "seq": 2,
                "status": "completed",
                "duration": end,
            },
        ]
        (run / name).write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in lines))
    assert "duration 1.0m" in cli("summary", str(run)).stdout
    cli("report", str(run), "--out", str(tmp_path / "r.html"))
    html = (tmp_path / "r.html").read_text()
    assert "<td>1.0m</td>" in html and "<td>1.3m</td>" not in html


def test_console_lines_written_while_a_tqdm_bar_is_open_are_flushed(tmp_path: Path) -> None:
    """tqdm.write does not flush: into a file, every console line of a training loop under a bar waited in the
    buffer (tail -f showed nothing, a killed job lost them)."""
    import pytest

    tqdm = pytest.importorskip("tqdm")

    class Buffered(io.StringIO):
        """A file: what is written waits until flush()."""

        def __init__(self) -> None:
            super().__init__()
            self.pending: list[str] = []
            self.flushed: list[str] = []

        def write(self, s: str) -> int:
            self.pending.append(s)
            return len(s)

        def flush(self) -> None:
            self.flushed += self.pending
            self.pending.clear()

        def isatty(self) -> bool:
            return False

    stream = Buffered()
    eventlog.init(tmp_path / "run", run="r", console_stream=stream)
    seen = []
    with eventlog.phase("training", total_steps=3, total_epochs=1) as tr:
        for step in tqdm.tqdm(range(1, 4), file=io.StringIO()):
            with tr.step_phase(step, epoch=1):
                seen.append("".join(stream.flushed))
    eventlog.finish()
    assert all(f"Step {s}/3" in text for s, text in zip(range(1, 4), seen, strict=True)), seen[-1][-300:]


def test_a_dumb_terminal_gets_no_colour() -> None:
    """TERM=dumb (an Emacs shell buffer) got ANSI colour codes shown raw."""
    from eventlog._console import use_colour

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_colour(Tty(), {"TERM": "xterm-256color"}) is True
    assert use_colour(Tty(), {"TERM": "dumb"}) is False
    assert use_colour(Tty(), {"TERM": "dumb", "FORCE_COLOR": "1"}) is True
