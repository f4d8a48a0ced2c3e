"""A few real steps of Hugging Face Trainer on a tiny BERT built from a config (no downloads).

Usage: python hf_trainer.py OUT_DIR MODE   (MODE: callback | report_to | tokens)
With MODE callback, Trainer also reports to TensorBoard (into OUT_DIR/tb). MODE tokens counts input
tokens (transformers 5 then adds train_runtime to every step's log), logs every 3 steps (the last
step, 8, logs nothing), adds a metric named decode_runtime, a trainer.log() of a custom value beside
an eval one, and an evaluate(metric_key_prefix="val").
Training logs every 2 steps, evaluates two named eval datasets every 3 steps, saves every 4,
then calls trainer.evaluate() and trainer.predict() after training; the run ends at process exit.
"""

from __future__ import annotations

import os
import sys

import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from eventlog.integrations import transformers as el_hf


class Toy(torch.utils.data.Dataset):  # type: ignore[type-arg]
    def __init__(self, n: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randint(5, 60, (n, 8), generator=g)
        self.y = (self.x[:, 0] > 32).long()

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"input_ids": self.x[i], "attention_mask": torch.ones(8, dtype=torch.long), "labels": self.y[i]}


def accuracy(pred: object) -> dict[str, float]:
    p = pred.predictions.argmax(-1)  # type: ignore[attr-defined]
    return {"accuracy": float((p == pred.label_ids).mean())}  # type: ignore[attr-defined]


def with_runtime(pred: object) -> dict[str, float]:  # a metric of one's own that ends like Trainer's *_runtime
    return {**accuracy(pred), "decode_runtime": 0.5}


def main(out: str, mode: str) -> None:
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=64,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        num_labels=2,
        id2label={0: "neg", 1: "pos"},
        label2id={"neg": 0, "pos": 1},
    )
    model = BertForSequenceClassification(cfg)
    callbacks = []
    report_to = "none"
    tokens = mode == "tokens"
    if tokens:
        callbacks.append(el_hf.EventlogCallback())
    elif mode == "report_to":
        el_hf.register()
        report_to = "eventlog"
    else:  # TensorBoard too, so the importer test can compare its import with what the callback recorded
        callbacks.append(el_hf.EventlogCallback())
        os.environ["TENSORBOARD_LOGGING_DIR"] = f"{out}/tb"
        report_to = "tensorboard"
    args = TrainingArguments(
        output_dir=out,
        run_name="hf-tiny",
        max_steps=8,
        per_device_train_batch_size=8,
        per_device_eval_batch_size=8,
        logging_steps=3 if tokens else 2,
        eval_strategy="steps",
        eval_steps=3,
        save_strategy="steps",
        save_steps=4,
        report_to=report_to,
        use_cpu=True,
        disable_tqdm=True,
        learning_rate=1e-3,
        dataloader_num_workers=0,
        **({"include_num_input_tokens_seen": "all"} if tokens else {}),
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=Toy(64, 1),
        eval_dataset={"g0": Toy(16, 2), "g1": Toy(16, 3)},
        compute_metrics=with_runtime if tokens else accuracy,
        callbacks=callbacks,
    )
    trainer.train()
    if tokens:
        trainer.log({"custom_score": 1.5, "eval_extra": 2.5})
        trainer.evaluate(eval_dataset=Toy(24, 4), metric_key_prefix="val")
    else:
        trainer.evaluate(eval_dataset=Toy(24, 4))
    trainer.predict(Toy(8, 5))  # logs nothing itself: test_* metrics reach callbacks through on_predict
    trainer.state.save_to_json(f"{out}/trainer_state.json")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
