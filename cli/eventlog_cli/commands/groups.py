"""``eventlog groups``: per step, the group summary, and turn-by-turn advantage tables when present."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from eventlog._schema import ENVELOPE, get_type
from eventlog._text import fmt_duration, fmt_num
from eventlog_cli.commands._exit import guarded
from eventlog_cli.commands._options import Csv, Json, Paths, Rank, Strict, output_format
from eventlog_cli.commands._output import console, new_table, print_table, text
from eventlog_cli.commands._read import read
from eventlog_cli.commands._render import Result, render
from eventlog_cli.query.runs import only_rank_records
from eventlog_cli.query.select import detail_step, groups_at, step_text


@guarded
def groups(
    paths: Paths = None,
    step: Annotated[
        int | None, typer.Option("--step", help="Advantage tables of this step (default: the last).")
    ] = None,
    rank: Rank = None,
    json_output: Json = False,
    csv_output: Csv = False,
    strict: Strict = False,
) -> None:
    """Per step: the group summary, and turn-by-turn advantage tables when present.

    ``--json`` is ``{"summaries": [...], "details": [...]}``; ``--csv`` is the summaries.
    """
    fmt = output_format(json_output, csv_output)
    loaded = read(paths, ["group_summary", "group_detail"], strict=strict)
    steps = only_rank_records(loaded.records(["group_detail"], only={"group_detail": ["step"]}), rank)
    at = detail_step(steps, step)  # only that step's tables are decoded whole (a run holds 10^5 of them)
    details = loaded.records(["group_detail"], where=step_text(at)) if at is not None else []
    summ, chosen = groups_at(
        only_rank_records(loaded.records(["group_summary"]), rank), only_rank_records(details, rank), step, steps
    )
    columns = list(dict.fromkeys(k for r in summ for k in r))
    data = {"summaries": summ, "details": chosen}
    render(Result(summ, columns, data=data, view=lambda: _view(summ, chosen)), fmt)


_SHOWN = 200  # summary rows in the terminal view: the last ones (--json and --csv have every step)


def _view(summ: list[dict[str, Any]], chosen: list[dict[str, Any]]) -> None:
    if len(summ) > _SHOWN:
        sys.stderr.write(f"note: the last {_SHOWN} of {len(summ)} steps' group summaries (--json or --csv: all)\n")
        summ = summ[-_SHOWN:]
    extra = list(dict.fromkeys(k for r in summ for k in r if k not in _KNOWN and not k.startswith("_")))
    ranks = len({r.get("rank") for r in summ}) > 1  # several ranks: a rank column
    cols = ("step", "groups", "kept", "filtered", "early exit", "rollout", "train", "tokens", "trainable")
    t = new_table(*(("rank",) if ranks else ()), *cols, right=cols)
    for r in summ:
        tt, tr = r.get("tokens_total"), r.get("tokens_trainable")
        share = f"{100 * tr / tt:.1f}%" if isinstance(tt, int) and isinstance(tr, int) and tt else ""
        t.add_row(
            *(
                text(x)
                for x in (
                    *((fmt_num(r.get("rank")),) if ranks else ()),
                    fmt_num(r.get("step")),
                    fmt_num(r.get("groups_total")),
                    fmt_num(r.get("groups_kept")),
                    fmt_num(r.get("groups_filtered")),
                    fmt_num(r.get("rollouts_early_exit")),
                    fmt_duration(r.get("rollout_time")),
                    fmt_duration(r.get("train_time")),
                    f"{tt:,}" if isinstance(tt, int) else "-",
                    share,
                )
            )
        )
    if summ:
        print_table(t)
    for r in summ if extra else []:  # extra fields (frac_reward_zero_std, reward per function...): one line per step
        pairs = " ".join(f"{k}={fmt_num(r[k])}" for k in extra if k in r)
        console().print(text(f"step {fmt_num(r.get('step'))}: {pairs}"))
    for d in chosen:
        _advantages(d)


def _advantages(d: dict[str, Any]) -> None:
    adv = [r if isinstance(r, list) else [r] for r in _list(d.get("turn_advantages"))]  # another writer's flat list
    rewards = _list(d.get("rewards"))
    turns = max((len(r) for r in adv), default=0)
    heads = [f"turn {i + 1}" for i in range(turns)]
    t = new_table("rollout", "reward", *heads, right=("rollout", "reward", *heads))
    console().print(
        text(f"Turn-by-turn advantages: step {fmt_num(d.get('step'))}, group {fmt_num(d.get('group'))}", "bold")
    )
    for i in range(max(len(adv), len(rewards))):
        row = adv[i] if i < len(adv) else []
        cells = [("" if x is None else (f"{x:+.3f}" if isinstance(x, (int, float)) else fmt_num(x))) for x in row]
        t.add_row(
            text(i),
            text(fmt_num(rewards[i]) if i < len(rewards) else ""),
            *(text(c) for c in cells),
            *(text("") for _ in range(turns - len(cells))),
        )
    print_table(t)


def _list(v: Any) -> list[Any]:
    """A list field as a list: another writer's single number is a list of one, anything else none."""
    return v if isinstance(v, list) else [v] if isinstance(v, (int, float)) else []


_SUMMARY = get_type("group_summary")
_KNOWN = frozenset({*ENVELOPE, *(f.name for f in _SUMMARY.fields)} if _SUMMARY is not None else ENVELOPE)


def register(app: typer.Typer) -> None:
    app.command("groups")(groups)
