"""Each README "Training stacks" section, its code copied verbatim into a fresh script, then its shown commands.

The snippet's ``...`` is filled with a tiny model's arguments (built as tests/frameworks/ builds them), the
script trains for real in its own interpreter, and each ``$ eventlog ...`` command of the section's output
block runs on the result: every line the README shows (numbers masked, ``...`` elided lines skipped) must
appear in that order in what the command prints. A README that drifts from the code fails here.
"""

from __future__ import annotations

import re
import shlex
import sys
import textwrap
from pathlib import Path

import pytest
from test_integrations import SCRIPTS, eventlog_cli, need, train_with

from conftest import ROOT

pytestmark = pytest.mark.timeout(900)

NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")

HF_PRELUDE = """
import sys
sys.path.insert(0, {scripts!r})
from hf_trainer import Toy, accuracy
import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
torch.manual_seed(0)
model = BertForSequenceClassification(BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1,
    num_attention_heads=2, intermediate_size=32, max_position_embeddings=16, num_labels=2))
args = TrainingArguments(output_dir="output", run_name="hf-tiny", max_steps=8, per_device_train_batch_size=8,
    logging_steps=2, eval_strategy="steps", eval_steps=3, save_steps=4, report_to="none", use_cpu=True,
    disable_tqdm=True, learning_rate=1e-3)
"""
HF_ARGS = (
    'model=model, args=args, train_dataset=Toy(64, 1), eval_dataset={"g0": Toy(16, 2), "g1": Toy(16, 3)}, '
    "compute_metrics=accuracy"
)
HF_AFTER = """
trainer.train()
trainer.evaluate(eval_dataset=Toy(24, 4))
trainer.predict(Toy(8, 5))
"""
LIGHTNING_PRELUDE = """
import sys
sys.path.insert(0, {scripts!r})
from lightning_fit import Tiny, loader
import lightning
import torch
torch.manual_seed(0)
"""
LIGHTNING_ARGS = "max_epochs=2, log_every_n_steps=2, enable_progress_bar=False, accelerator='cpu'"
LIGHTNING_AFTER = """
model = Tiny()
trainer.fit(model, loader(32, 1), loader(16, 2))
trainer.test(model, loader(16, 3))
"""
ACCELERATE_PRELUDE = """
import torch
from accelerate import Accelerator
from torch.utils.data import DataLoader, TensorDataset
torch.manual_seed(0)
"""
ACCELERATE_AFTER = """
accelerator.init_trackers("acc-tiny", config={"lr": 0.1})
model = torch.nn.Linear(2, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.rand(32, 2)
data = DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)
model, opt, data = accelerator.prepare(model, opt, data)
step = 0
for _epoch in range(2):
    for xb, yb in data:
        step += 1
        loss = torch.nn.functional.mse_loss(model(xb), yb)
        accelerator.backward(loss)
        opt.step()
        opt.zero_grad()
        accelerator.log({"loss": loss.item()}, step=step)
    with torch.no_grad():
        val = torch.nn.functional.mse_loss(model(x), x.sum(1, keepdim=True)).item()
    accelerator.log({"eval_loss": val, "eval_accuracy": 1.0 / (1.0 + val)}, step=step)
accelerator.end_training()
"""


TRL_PRELUDE = """
import sys
sys.path.insert(0, {scripts!r})
from trl_grpo import reward_says_yes, reward_short, tokenizer
import torch
from datasets import Dataset
from transformers import LlamaConfig, LlamaForCausalLM
from trl import GRPOConfig, GRPOTrainer
torch.manual_seed(0)
tok = tokenizer()
model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
    num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64, pad_token_id=tok.pad_token_id,
    bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id))
data = Dataset.from_dict({{"prompt": ["add one two answer is", "sub five two answer is", "two ?", "yes or no ?"] * 4}})
args = GRPOConfig(output_dir="output", run_name="grpo-tiny", max_steps=3, per_device_train_batch_size=4,
    num_generations=4, max_completion_length=6, logging_steps=1, save_strategy="no", report_to="none", use_cpu=True,
    disable_tqdm=True, learning_rate=1e-3, temperature=1.0, seed=0)
trainer = GRPOTrainer(model=model, reward_funcs=[reward_short, reward_says_yes], args=args, train_dataset=data,
    processing_class=tok)
"""
TRL_SKIP = ("Prompt:", "Output:", "──")  # the sampled text and its header vary with the sampling


def section(title: str) -> tuple[str, str]:
    """The python snippet and the output block of the README section ``### {title}``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"\n### {title}\n", 1)[1].split("\n### ", 1)[0]
    code = body.split("```python\n", 1)[1].split("```", 1)[0]
    shown = body.split("```\n$ ", 1)[1].split("```", 1)[0]
    return code, "$ " + shown


def commands(shown: str) -> list[tuple[list[str], list[str]]]:
    out: list[tuple[list[str], list[str]]] = []
    for line in shown.splitlines():
        if line.startswith("$ eventlog "):
            out.append((shlex.split(line[len("$ eventlog ") :].split("  #")[0]), []))
        elif line.strip() and line.strip() != "..." and out:
            out[-1][1].append(line)
    return out


def masked(line: str) -> str:
    return " ".join(NUMBER.sub("#", line).split())


def run_section(tmp_path: Path, title: str, prelude: str, args: str, after: str, skip: tuple[str, ...] = ()) -> None:
    code, shown = section(title)
    script = prelude.format(scripts=str(SCRIPTS)) + textwrap.dedent(code).replace("...", args) + after
    (tmp_path / "user.py").write_text(script, encoding="utf-8")
    train_with([sys.executable, "user.py"], cwd=tmp_path)
    for argv, expected in commands(shown):
        *opts, target = argv
        r = eventlog_cli(*opts, str(tmp_path / target))
        assert 0 == r.returncode, f"eventlog {' '.join(argv)}: {r.stderr}"
        got = [masked(ln.replace(str(tmp_path) + "/", "")) for ln in r.stdout.splitlines()]
        pos = 0
        for want in (masked(e) for e in expected if not e.startswith(skip)):
            head = want.removesuffix("...").rstrip()  # a line the README cut short with "..."
            while pos < len(got) and not (got[pos] == want or (head != want and got[pos].startswith(head))):
                pos += 1
            assert pos < len(got), f"README line {want!r} not in `eventlog {' '.join(argv)}`:\n{r.stdout}"
            pos += 1


class TestReadmeStacks:
    def test_hugging_face_trainer(self, tmp_path: Path) -> None:
        """The README's Trainer line, as written, and the phases/table it shows."""
        need("torch", "transformers")
        run_section(tmp_path, "Hugging Face `Trainer`", HF_PRELUDE, HF_ARGS, HF_AFTER)

    def test_lightning(self, tmp_path: Path) -> None:
        """The README's EventlogLogger line, as written, and the summary it shows (run dir, checkpoints, config)."""
        need("torch", "lightning")
        run_section(tmp_path, "Lightning", LIGHTNING_PRELUDE, LIGHTNING_ARGS, LIGHTNING_AFTER)

    def test_accelerate(self, tmp_path: Path) -> None:
        """The README's register() + Accelerator(log_with="eventlog") lines, as written, and the trend it shows."""
        need("torch", "accelerate")
        run_section(tmp_path, "Accelerate", ACCELERATE_PRELUDE, "", ACCELERATE_AFTER)

    def test_trl_grpo(self, tmp_path: Path) -> None:
        """The README's add_callback line, as written, and the samples/groups it shows."""
        need("torch", "transformers", "trl", "datasets")
        run_section(tmp_path, "TRL `GRPOTrainer`", TRL_PRELUDE, "", "trainer.train()\n", TRL_SKIP)
