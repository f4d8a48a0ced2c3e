"""eventlog import: TensorBoard files written by TensorBoard's own writer, verl console logs, errors."""

from __future__ import annotations

import math
import pprint
from pathlib import Path
from typing import Any

import pytest

from conftest import cli, read_events
from eventlog_cli.importers.verl import parse_value


def by_type(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


def check_cli(run_dir: Path, metric: str) -> None:
    for args in (["validate"], ["summary"], ["table"], ["trend", metric]):
        r = cli(*args, str(run_dir))
        assert 0 == r.exit_code, f"{args}: {r.stdout}"


class TestTensorBoard:
    def test_summary_writer_scalars_histograms_and_steps(self, tmp_path: Path) -> None:
        """Scalars by tag prefix (val/ → eval_summary split val), wall times kept, histograms named as not imported."""
        np = pytest.importorskip("numpy")
        tb = pytest.importorskip("torch.utils.tensorboard")
        writer = tb.SummaryWriter(log_dir=str(tmp_path / "logs"))
        for step in range(1, 5):
            writer.add_scalar("loss", 1.0 / step, step, walltime=1_700_000_000 + step)
            writer.add_scalar("lr", 0.1, step, walltime=1_700_000_000 + step)
            if step % 2 == 0:
                writer.add_scalar("val/accuracy", 0.25 * step, step, walltime=1_700_000_000 + step)
        writer.add_scalar("lr", 0.05, 4, walltime=1_700_000_010)  # step 4 again (a resumed run): the later wins
        writer.add_histogram("weights", np.arange(10.0), 4)
        writer.add_histogram("\x1b[31mred", np.arange(10.0), 4)
        writer.close()
        result = cli("import", str(tmp_path / "logs"), "--out", "run")
        assert 0 == result.exit_code, result.output
        assert "histograms series not imported" in result.stderr
        assert (
            "1 scalar(s) written twice for one tag and step with different values; the later kept: lr@4"
            in result.stderr
        )
        assert "\x1b" not in result.stderr and "\\x1b[31mred" in result.stderr  # the tag is shown escaped
        events = read_events(Path("run/events.jsonl"))
        steps = by_type(events, "step_metrics")
        assert [(1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3)), (4, 0.25)] == [
            (e["step"], e["metrics"]["loss"]) for e in steps
        ]
        assert [1_700_000_001.0, 1_700_000_002.0] == [e["ts"] for e in steps[:2]]
        assert pytest.approx(0.05) == steps[3]["metrics"]["lr"]  # float32 in the file
        assert [(2, "val", {"accuracy": 0.5}), (4, "val", {"accuracy": 1.0})] == [
            (e["step"], e["split"], e["metrics"]) for e in by_type(events, "eval_summary")
        ]
        check_cli(Path("run"), "accuracy")


class TestTensorBoardLayout:
    def test_event_files_in_several_directories_are_refused(self, tmp_path: Path) -> None:
        """A log root holding several runs' directories: one line asking to import each directory."""
        tb = pytest.importorskip("torch.utils.tensorboard")
        for name in ("a", "b"):
            w = tb.SummaryWriter(log_dir=str(tmp_path / "logs" / name))
            w.add_scalar("loss", 1.0, 1)
            w.close()
        result = cli("import", str(tmp_path / "logs"), "--out", "run")
        assert 1 == result.exit_code
        assert "event files in 2 directories" in result.stderr and "import each directory" in result.stderr
        assert not Path("run/events.jsonl").exists()


def verl_line(step: int, data: dict[str, Any]) -> str:
    """How verl's console logger prints one step (verl/utils/tracking.py: concat_dict_to_str)."""
    return " - ".join([f"step:{step}", *(f"{k}:{pprint.pformat(v)}" for k, v in data.items())])


def verl_log(tmp_path: Path) -> Path:
    """A PPO console log as verl prints it under Ray: pid prefixes, tqdm glue, pprint-wrapped validation dicts."""
    np = pytest.importorskip("numpy")
    ray = "(TaskRunner pid=4242) "
    initial = {"val-core/openai/gsm8k/acc/mean@1": np.float64(0.125), "val-aux/num_turns/mean": np.float64(2.0)}
    lines = ["Using config: {...}", "(WorkerDict pid=77) loading model"]
    out = []
    with pprint_capture() as buf:
        pprint.pprint(f"Initial validation metrics: {initial}")
    lines += [ray + ln for ln in buf.getvalue().splitlines()]
    for step in (1, 2, 3):
        data = {
            "actor/pg_loss": np.float64(-0.01 * step),
            "actor/entropy": np.float64(math.nan) if step == 2 else np.float64(1.5 - 0.1 * step),
            "critic/score/mean": np.float64(0.2 * step),
            "timing_s/gen": np.float64(3.5),
            "response_length/mean": step * 10,
        }
        if step == 2:
            data["val-core/openai/gsm8k/acc/mean@1"] = np.float64(0.375)
        text = verl_line(step, data)
        out.append(text)
        if step == 1:
            text = "Training Progress:  33%|███▎      | 1/3 [00:05<00:10,  5.10s/it]" + text  # glued after tqdm
        lines.append(ray + text)
    final = {"val-core/openai/gsm8k/acc/mean@1": np.float64(0.5)}
    lines.append(ray + f"Final validation metrics: {final}")
    path = tmp_path / "verl_ppo.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class pprint_capture:  # noqa: N801 - a context manager used like a function
    def __enter__(self) -> Any:
        import contextlib
        import io

        self.buf = io.StringIO()
        self._cm = contextlib.redirect_stdout(self.buf)
        self._cm.__enter__()
        return self.buf

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)


class TestVerl:
    def test_console_log_steps_and_evaluations(self, tmp_path: Path) -> None:
        """Steps behind Ray prefixes and tqdm bars, val-core/val-aux as eval splits, timing, initial/final metrics."""
        path = verl_log(tmp_path)
        assert "\n" in pprint.pformat("Initial validation metrics: {'val-core/openai/gsm8k/acc/mean@1': 0.125, 'x': 1}")
        result = cli("import", str(path), "--out", "run")
        assert 0 == result.exit_code, result.output
        assert "[verl]" in result.stdout
        events = read_events(Path("run/events.jsonl"))
        steps = by_type(events, "step_metrics")
        assert [1, 2, 3] == [e["step"] for e in steps]
        assert {
            "actor/pg_loss": -0.01,
            "actor/entropy": 1.4,
            "critic/score/mean": 0.2,
            "response_length/mean": 10,
        } == steps[0]["metrics"]
        assert "NaN" == steps[1]["metrics"]["actor/entropy"]
        assert {"gen": 3.5} == steps[0]["timing"]
        evals = [(e["step"], e["split"], e["metrics"]) for e in by_type(events, "eval_summary")]
        assert [
            (0, "val-core", {"openai/gsm8k/acc/mean@1": 0.125}),
            (0, "val-aux", {"num_turns/mean": 2.0}),
            (2, "val-core", {"openai/gsm8k/acc/mean@1": 0.375}),
            (3, "val-core", {"openai/gsm8k/acc/mean@1": 0.5}),
        ] == evals
        assert "completed" == events[-1]["status"]
        check_cli(Path("run"), "openai/gsm8k/acc/mean@1")

    def test_unfinished_log_is_interrupted_with_a_note(self, tmp_path: Path) -> None:
        """Without a Final validation metrics line the run is recorded as interrupted, and stderr says why."""
        path = tmp_path / "sft.log"
        path.write_text("step:1 - train/loss:0.9 - train/lr(1e-3):0.001\nstep:2 - train/loss:0.7 - val/loss:0.8\n")
        result = cli("import", str(path), "--out", "run")
        assert 0 == result.exit_code, result.output
        assert "recorded as interrupted" in result.stderr
        events = read_events(Path("run/events.jsonl"))
        assert [{"train/loss": 0.9, "train/lr(1e-3)": 0.001}, {"train/loss": 0.7}] == [
            e["metrics"] for e in by_type(events, "step_metrics")
        ]
        assert [(2, "val", {"loss": 0.8})] == [
            (e["step"], e["split"], e["metrics"]) for e in by_type(events, "eval_summary")
        ]
        assert "interrupted" == events[-1]["status"]

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("0.5", 0.5),
            ("12", 12),
            ("np.float64(0.25)", 0.25),
            ("np.int64(3)", 3),
            ("tensor(1.5)", 1.5),
            ("-inf", -math.inf),
            ("abc", None),
        ],
    )
    def test_values_as_verl_prints_them(self, text: str, value: Any) -> None:
        """Plain numbers, numpy 2 reprs, tensors and non-finite spellings are numbers; other text is not."""
        assert value == parse_value(text)


class TestImportErrors:
    def test_unknown_source_is_one_line(self, tmp_path: Path) -> None:
        """A file no importer recognises: exit 1 and one line naming the formats."""
        (tmp_path / "notes.txt").write_text("hello\n")
        result = cli("import", str(tmp_path / "notes.txt"), "--out", "run")
        assert 1 == result.exit_code
        assert result.stderr.startswith("eventlog: ") and "--format hf/tensorboard/verl" in result.stderr
        assert 1 == len(result.stderr.splitlines())
        assert not Path("run/events.jsonl").exists()

    def test_existing_run_is_never_overwritten(self, tmp_path: Path) -> None:
        """--out holding events.jsonl is refused and left as it was."""
        Path("run").mkdir()
        Path("run/events.jsonl").write_text("keep\n")
        (tmp_path / "x.log").write_text("step:1 - loss:1.0\n")
        result = cli("import", str(tmp_path / "x.log"), "--out", "run")
        assert 1 == result.exit_code
        assert "already exists" in result.stderr
        assert "keep\n" == Path("run/events.jsonl").read_text()

    def test_bad_format_is_a_usage_error(self, tmp_path: Path) -> None:
        """--format must name an importer (exit 2)."""
        (tmp_path / "x.log").write_text("step:1 - loss:1.0\n")
        result = cli("import", str(tmp_path / "x.log"), "--out", "run", "--format", "csv")
        assert 2 == result.exit_code

    def test_missing_source(self) -> None:
        """A source that does not exist: exit 1, one line."""
        result = cli("import", "nope.json", "--out", "run")
        assert 1 == result.exit_code
        assert "nope.json: no such file or directory" in result.stderr

    def test_help(self) -> None:
        """eventlog import -h documents the source kinds and --out."""
        result = cli("import", "-h")
        assert 0 == result.exit_code
        assert "--out" in result.stdout and "--format" in result.stdout


class TestFlattenMessages:
    def test_chat_messages_become_role_lines(self) -> None:
        """TRL's conversational prompts and completions (lists of messages) flatten to 'role: content' lines."""
        pytest.importorskip("transformers")
        from eventlog.integrations.trl import flatten_messages

        chat = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "2+2?"}, {"type": "image"}]},
        ]
        assert "system: Be brief.\nuser: 2+2?" == flatten_messages(chat)
        assert "plain" == flatten_messages("plain")
