"""A few real steps of TRL GRPOTrainer: a tiny Llama built from a config, a tokenizer built here, two reward functions.

Usage: python trl_grpo.py OUT_DIR
The second reward function returns None for some completions, so TRL logs None for metrics at times.
"""

from __future__ import annotations

import sys

import torch
from datasets import Dataset
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
from trl import GRPOConfig, GRPOTrainer

from eventlog.integrations.trl import EventlogGRPOCallback

WORDS = ["add", "sub", "one", "two", "three", "four", "five", "yes", "no", "answer", "is", "?"]


def tokenizer() -> PreTrainedTokenizerFast:
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[BOS]", "[EOS]", *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", bos_token="[BOS]", eos_token="[EOS]"
    )


def reward_short(completions: list[str], **kwargs: object) -> list[float]:
    """Shorter completions are better."""
    return [-len(c.split()) / 8 for c in completions]


def reward_says_yes(completions: list[str], **kwargs: object) -> list[float | None]:
    """1 when the completion says yes, 0 when it says no, None (not scorable) otherwise."""
    return [1.0 if "yes" in c.split() else 0.0 if "no" in c.split() else None for c in completions]


def main(out: str) -> None:
    torch.manual_seed(0)
    tok = tokenizer()
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    model = LlamaForCausalLM(cfg)
    data = Dataset.from_dict(
        {"prompt": ["add one two answer is", "sub five two answer is", "two ?", "yes or no ?"] * 4}
    )
    args = GRPOConfig(
        output_dir=out,
        run_name="grpo-tiny",
        max_steps=3,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=6,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        learning_rate=1e-3,
        temperature=1.0,
        seed=0,
    )
    trainer = GRPOTrainer(
        model=model, reward_funcs=[reward_short, reward_says_yes], args=args, train_dataset=data, processing_class=tok
    )
    trainer.add_callback(EventlogGRPOCallback(trainer))
    trainer.train()


if __name__ == "__main__":
    main(sys.argv[1])
