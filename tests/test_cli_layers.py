"""The CLI's layout: read → query → commands, one renderer, one exit-code map, the reader table, demo."""

from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path

import pytest

from conftest import ROOT, FakeClock, build_fixture_run, cli
from eventlog import Field
from eventlog._schema import all_types, get_type
from eventlog_cli.commands import demo as demo_cmd
from eventlog_cli.commands._exit import exit_code
from eventlog_cli.errors import DataError, NoMatchError, UsageError
from eventlog_cli.read import READERS, load, reader_of

CLI = ROOT / "cli" / "eventlog_cli"


@pytest.fixture
def fx(tmp_path: Path, clock: FakeClock) -> str:
    build_fixture_run(Path("fx"))
    return "fx"


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


class TestLayers:
    @pytest.mark.parametrize(
        ("layer", "forbidden"),
        [
            ("read", ("eventlog_cli.query", "eventlog_cli.commands", "typer", "rich")),
            ("query", ("eventlog_cli.commands", "typer", "rich")),
        ],
    )
    def test_lower_layers_do_not_reach_up(self, layer: str, forbidden: tuple[str, ...]) -> None:
        """read/ knows nothing of queries or commands; query/ nothing of commands, typer or rich."""
        bad = {f"{p.name}: {m}" for p in (CLI / layer).glob("*.py") for m in imports(p) if m.startswith(forbidden)}
        assert set() == bad

    def test_no_module_over_400_lines(self) -> None:
        """Every CLI module stays under 400 lines."""
        long = {str(p.relative_to(CLI)): n for p in CLI.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
        assert {} == long

    def test_every_folder_says_what_lives_there(self) -> None:
        """Each package's __init__ has a docstring."""
        for init in CLI.rglob("__init__.py"):
            assert ast.get_docstring(ast.parse(init.read_text())), init

    def test_records_keep_file_and_line_beside_the_event(self, fx: str) -> None:
        """A decoded record's event is exactly the JSON object of its line; file and line sit beside it."""
        loaded = load([fx], ["run_start"])
        (rec,) = loaded.records()
        lines = Path(fx, "events.jsonl").read_text().splitlines()
        assert (0, json.loads(lines[rec.line - 1])) == (rec.file, rec.event)


class TestExitCodes:
    @pytest.mark.parametrize(
        ("exc", "code"),
        [(DataError("x"), 1), (NoMatchError(), 1), (UsageError("x"), 2), (KeyboardInterrupt(), 130)],
    )
    def test_one_map(self, exc: BaseException, code: int) -> None:
        """Domain error → 1, usage → 2, Ctrl-C → 130."""
        assert code == exit_code(exc)

    def test_json_and_csv_together_is_a_usage_error(self, fx: str) -> None:
        """Asking for both --json and --csv exits 2 with one line."""
        result = cli("table", "--json", "--csv", fx)
        assert (2, "eventlog: --json and --csv: choose one\n") == (result.exit_code, result.stderr)


def csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    return list(reader.fieldnames or []), list(reader)


class TestShapeFamily:
    @pytest.mark.parametrize(
        "args",
        [["table"], ["samples"], ["grep", "accuracy"]],
    )
    def test_row_commands_json_rows_are_the_csv_rows(self, fx: str, args: list[str]) -> None:
        """--json is a list of row objects whose keys are the --csv header, one row per line."""
        rows = json.loads(cli(*args, "--json", fx).stdout)
        header, lines = csv_rows(cli(*args, "--csv", fx).stdout)
        assert rows and len(rows) == len(lines)
        assert set(header) == {k for r in rows for k in r}

    @pytest.mark.parametrize(
        ("args", "key", "extra"),
        [
            (["trend", "accuracy"], "rows", []),
            (["phases"], "phases", []),
            (["groups"], "summaries", []),
            (["summary"], "runs[].metrics", ["run"]),
        ],
    )
    def test_object_commands_csv_is_their_main_table(
        self, fx: str, args: list[str], key: str, extra: list[str]
    ) -> None:
        """--json is one object; --csv holds the rows of its main table with the same keys."""
        data = json.loads(cli(*args, "--json", fx).stdout)
        header, lines = csv_rows(cli(*args, "--csv", fx).stdout)
        rows = [m for run in data["runs"] for m in run["metrics"]] if key == "runs[].metrics" else data[key]
        assert isinstance(data, dict) and len(rows) == len(lines)
        assert all(set(r) | set(extra) <= set(header) for r in rows)

    def test_validate_csv_lists_the_problems(self, fx: str) -> None:
        """validate --csv is the problems table (file, line, problem), exit 1 when there are any."""
        with open(f"{fx}/events.jsonl", "a") as f:
            f.write("garbage\n")
        result = cli("validate", "--csv", fx)
        header, lines = csv_rows(result.stdout)
        assert (1, ["file", "line", "problem"]) == (result.exit_code, header)
        assert any(r["problem"].startswith("not valid JSON") for r in lines)

    def test_eval_csv_is_metric_value_rows(self, fx: str) -> None:
        """eval --csv has one metric/value row per statistic."""
        header, lines = csv_rows(cli("eval", "--step", "2", "--csv", fx).stdout)
        assert ["metric", "value"] == header
        assert {"accuracy": "0.5", "total": "8"}.items() <= {r["metric"]: r["value"] for r in lines}.items()


class TestReaders:
    def test_every_kind_has_a_reader(self) -> None:
        """reader_of maps each schema kind to one of the ten reader names, as the library will."""
        expected = {
            "int": "int",
            "number": "float",
            "string": "str",
            "bool": "bool",
            "numbers": "float_map",
            "ints": "int_list",
            "strings": "str_list",
            "number_list": "float_list",
            "number_lists": "float_lists",
            "object": "json",
            "scalar": "json",
            "any": "json",
        }
        got = {k: reader_of(Field("x", k)) for k in expected}  # type: ignore[arg-type]
        assert expected == got
        assert set(READERS) == set(expected.values())

    def test_every_built_in_field_has_a_known_reader(self) -> None:
        """Every field of every registered type reads through an entry of the one table."""
        assert all(reader_of(f) in READERS for et in all_types() for f in et.fields)

    def test_step_metrics_take_the_fast_path(self) -> None:
        """Built-in numeric types have a dtype for every field (no fallback to Python decoding)."""
        et = get_type("step_metrics")
        assert et is not None
        assert all(READERS[reader_of(f)].dtype is not None for f in et.fields)


class TestDemo:
    def test_runs_the_example_script_with_the_options(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """eventlog demo runs examples/grpo_demo.py as __main__ with its options and returns its status."""
        script = tmp_path / "grpo_demo.py"
        script.write_text(
            "import sys, pathlib\n"
            "if __name__ == '__main__':\n"
            "    pathlib.Path('argv.json').write_text(__import__('json').dumps(sys.argv[1:]))\n"
            "    sys.exit(3)\n"
        )
        monkeypatch.setattr(demo_cmd, "demo_script", lambda: script)
        result = cli("demo", "--out", "r", "--steps", "2", "--delay", "0", "--seed", "1")
        assert 3 == result.exit_code
        expected = ["--out", "r", "--run", "demo", "--steps", "2", "--eval-every", "15"]
        expected += ["--delay", "0.0", "--seed", "1", "--style", "banner"]
        assert expected == json.loads(Path("argv.json").read_text())

    def test_missing_script_is_one_clear_line(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without the script (an installed package), one line says what is missing (exit 1)."""
        monkeypatch.setattr(demo_cmd, "demo_script", lambda: tmp_path / "missing.py")
        result = cli("demo")
        assert 1 == result.exit_code
        assert 1 == len(result.stderr.splitlines())
        assert "missing.py is missing" in result.stderr

    def test_script_path_is_in_the_source_checkout(self) -> None:
        """The script is looked for at <checkout>/examples/grpo_demo.py."""
        assert ROOT / "examples" / "grpo_demo.py" == demo_cmd.demo_script()
