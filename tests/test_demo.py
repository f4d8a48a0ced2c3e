"""The demo run: the whole seed flow on the console, valid events, accuracy that rises."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from conftest import ROOT, read_events


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("demo") / "run"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "grpo_demo.py"), "--out", str(out), "--delay", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert 0 == proc.returncode, proc.stderr
    return proc.stdout, out / "events.jsonl"


class TestDemo:
    def test_console_has_every_seed_banner_in_order(self, demo: tuple[str, Path]) -> None:
        """The saved console output walks the seed flow from initialization to ALL PHASES COMPLETE."""
        text, _ = demo
        flow = [
            "🔧 [META] PHASE: INITIALIZATION - Creating Resource Pools and Workers",
            "🧪 [META] PHASE: PRE-TRAINING VALIDATION",
            "🔍 [META] PHASE: VALIDATION",
            "📊 Validation [1/",
            "✅ [META] PHASE COMPLETE: VALIDATION",
            "Total questions processed: 240 | Total time: ",
            "💾 Eval stats saved to: ",
            "🚀 [META] PHASE: TRAINING START",
            "Total epochs: 3 | Total steps: 60",
            "🔄 [META] PHASE: TRAINING STEP",
            "[Epoch 1/3] Step 1/60 (1.7%)",
            "ACTIVE_TRAJ_NUM: [",
            "📊 Metrics: ",
            "[Step 1]",
            "  Groups: ",
            "🧪 [META] PHASE: PERIODIC VALIDATION (Step 15)",
            "💾 [META] PHASE: CHECKPOINT SAVING (Step 15)",
            "✅ [META] CHECKPOINT SAVED SUCCESSFULLY",
            "🎉 [META] PHASE: TRAINING COMPLETE",
            "Total steps completed: 60 | Total time: ",
            "🧪 [META] PHASE: POST-TRAINING VALIDATION",
            "🏁 [META] ALL PHASES COMPLETE - Training Finished Successfully!",
        ]
        positions = [text.index(marker) for marker in flow]
        assert sorted(positions) == positions

    def test_grep_count_equals_validation_runs(self, demo: tuple[str, Path]) -> None:
        """grep -c '[META] PHASE: VALIDATION' on the console equals the validation phases in the file."""
        text, path = demo
        runs = sum(e["event"] == "phase_start" and e["phase"] == "validation" for e in read_events(path))
        assert 5 == runs
        assert runs == len(re.findall(r"\[META\] PHASE: VALIDATION", text))

    def test_events_validate_against_committed_schemas(self, demo: tuple[str, Path]) -> None:
        """Every event of the demo validates against schemas/ (envelope and its type)."""
        _, path = demo
        docs = {p.stem: json.loads(p.read_text()) for p in (ROOT / "schemas").glob("*.json")}
        registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in docs.values())
        validators = {name: Draft202012Validator(d, registry=registry) for name, d in docs.items()}
        events = read_events(path)
        seen = set()
        for ev in events:
            validators[ev["event"]].validate(ev)
            seen.add(ev["event"])
        # config_update is for hyperparameters that arrive after run_start; the demo knows its config at init
        assert {d for d in docs if d not in ("envelope", "config_update")} == seen

    def test_eval_accuracy_rises(self, demo: tuple[str, Path]) -> None:
        """The toy GRPO run really learns: the last eval beats the first by a wide margin."""
        _, path = demo
        acc = [e["metrics"]["accuracy"] for e in read_events(path) if e["event"] == "eval_summary"]
        assert 5 == len(acc)
        assert acc[-1] >= acc[0] + 0.4

    def test_schema_rejects_a_broken_event(self) -> None:
        """The committed schema is strict enough to fail a wrong event (the check above can fail)."""
        doc = json.loads((ROOT / "schemas" / "step_metrics.json").read_text())
        env = json.loads((ROOT / "schemas" / "envelope.json").read_text())
        registry = Registry().with_resources([(env["$id"], Resource.from_contents(env))])
        bad = {
            "v": 1,
            "ts": 1.0,
            "event": "step_metrics",
            "run": "r",
            "rank": 0,
            "seq": 0,
            "step": "one",
            "metrics": {"loss": "high"},  # None is valid: "not measured"
        }
        assert 2 <= len(list(Draft202012Validator(doc, registry=registry).iter_errors(bad)))
