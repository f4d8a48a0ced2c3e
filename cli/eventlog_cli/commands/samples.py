"""``eventlog samples``: model outputs with prompt, golden and extracted answers, reward, correctness."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from eventlog._schema import ENVELOPE, get_type
from eventlog._text import fmt_num, sanitize
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Paths, Rank, Strict, output_format
from eventlog_cli.commands._output import console, text
from eventlog_cli.commands._read import read
from eventlog_cli.commands._render import Result, render
from eventlog_cli.errors import DataError
from eventlog_cli.query.samples import last_samples


@guarded
def samples(
    paths: Paths = None,
    wrong: Annotated[bool, typer.Option("--wrong", help="Only incorrect outputs.")] = False,
    step: Annotated[int | None, typer.Option("--step", help="Only this step.")] = None,
    split: Annotated[str | None, typer.Option("--split", help="Only this split (val, train...).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most N samples (the last N).")] = 10,
    full: Annotated[bool, typer.Option("--full", help="Do not shorten long texts.")] = False,
    rank: Rank = None,
    json_output: Json = False,
    csv_output: Csv = False,
    strict: Strict = False,
) -> None:
    """Model outputs with prompt, golden and extracted answers, reward and correctness."""
    fmt = output_format(json_output, csv_output)
    found = last_samples(read(paths, ["sample"], strict=strict).stream(["sample"]), rank, wrong, step, split, limit)
    rows, unknown = found.rows, found.unjudged
    if found.matched > len(rows):
        sys.stderr.write(f"note: the last {len(rows)} of {found.matched} matching samples (-n sets how many)\n")
    if unknown:  # a sample that does not say whether it is correct cannot be called wrong: say how many
        sys.stderr.write(f"note: {unknown} sample(s) without a correct field are left out (--wrong: correct=false)\n")
    if not rows and fmt == "table":
        raise DataError("no samples match")
    columns = list(dict.fromkeys(k for r in rows for k in r))
    render(Result(rows, columns, view=lambda: _view(rows, full, found.ranks)), fmt)


def _clip(s: str, full: bool, head: int = 300, tail: int = 150) -> str:
    if full or len(s) <= head + tail + 40:
        return s
    return f"{s[:head]} … [{len(s) - head - tail:,} chars omitted; --full shows all] … {s[-tail:]}"


def _view(rows: list[dict[str, Any]], full: bool, ranks: bool) -> None:
    """The samples as blocks; ``ranks``: the run has several, so each block says whose it is."""
    from rich.text import Text  # rich on use: eventlog --help stays fast

    out = console()
    for r in rows:
        correct = r.get("correct")
        mark = ("✓ correct", "green") if correct is True else ("✗ wrong", "red") if correct is False else ("?", "")
        head = " · ".join(
            x
            for x in (
                f"rank {fmt_num(r.get('rank'))}" if ranks else "",
                f"step {fmt_num(r.get('step'))}",
                sanitize(r.get("split") or ""),
                f"#{fmt_num(r.get('index'))}" if r.get("index") is not None else "",
                f"reward {fmt_num(r.get('reward'))}",
            )
            if x
        )
        out.print(Text.assemble(("── ", "dim"), text(head, "bold"), " ", text(mark[0], mark[1])))
        if r.get("prompt") is not None:
            out.print(Text.assemble(("Prompt:    ", "dim"), text(_clip(str(r["prompt"]), full))))
        if r.get("golden") is not None:
            golden = r["golden"]  # a list of answers, or (another writer) one answer
            shown = ", ".join(map(str, golden)) if isinstance(golden, list) else str(golden)
            out.print(Text.assemble(("Golden:    ", "dim"), text(shown)))
        if "extracted" in r:
            out.print(Text.assemble(("Extracted: ", "dim"), text("-" if r["extracted"] is None else r["extracted"])))
        out.print(Text.assemble(("Output:    ", "dim"), text(_clip(str(r.get("output", "")), full))), soft_wrap=True)
        extra = [f"{k}={fmt_num(v)}" for k, v in r.items() if k not in _KNOWN and not k.startswith("_")]
        if extra:  # per-function rewards, advantage...: the extra fields a sample may carry
            out.print(Text.assemble(("Extra:     ", "dim"), text(" ".join(extra))))
        out.print()


_SAMPLE = get_type("sample")
_KNOWN = frozenset({*ENVELOPE, *(f.name for f in _SAMPLE.fields)} if _SAMPLE is not None else ENVELOPE)


def register(app: typer.Typer) -> None:
    app.command("samples")(samples)
