"""``--where``: a small comparison language, parsed (never evaluated as code).

    metrics.loss > 0.5 and not (step < 10 or split == "train")
    msg =~ "too long"        level != 'debug'       metrics.kl == nan
    metrics["rewards/accuracy/mean"] > 0.5          metrics["lr.scheduled"] < 1e-5

A key with any characters is quoted in brackets (``metrics["lr.scheduled"]`` is one key, not a path).

Operators: == != < <= > >= =~ (regex search) !~, and, or, not, parentheses.
Values: numbers, 'strings' or "strings", true, false, null, nan, inf.
A field is a dotted path into the event (``metrics.loss``, ``config.lr``). A field the event
does not have is ``null`` (as in jq): ``metrics.loss != 1`` and ``not metrics.loss < 1`` match
events without it; ``metrics.loss != null`` keeps those that have it.
Parentheses nest at most :data:`MAX_DEPTH` deep (a one-line error beyond); a run of
``not`` is read without recursion (its parity).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from typing import Any

from eventlog._constants import decode_nonfinite
from eventlog_cli.errors import UsageError

__all__ = ["compile_where", "where_fields"]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>==|!=|<=|>=|=~|!~|<|>|\(|\))
    | (?P<name>[A-Za-z_][A-Za-z0-9_.\-]*
        (?:\[\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\](?:\.[A-Za-z_][A-Za-z0-9_\-]*)*)*)
    )""",
    re.VERBOSE,
)
_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_CONST = {"true": True, "false": False, "null": None, "nan": math.nan, "inf": math.inf}
Pred = Callable[[dict[str, Any]], bool]
MAX_DEPTH = 100


class _Parser:
    def __init__(self, src: str) -> None:
        self.fields: list[list[str]] = []  # the field paths read, for where_fields()
        self.src = src
        self.toks: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(src):
            if src[pos:].strip() == "":
                break
            m = _TOKEN.match(src, pos)
            if not m or m.end() == pos:
                self.fail("unexpected character", pos + len(src[pos:]) - len(src[pos:].lstrip()))
                raise AssertionError  # fail() raises
            kind = m.lastgroup or ""
            self.toks.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0
        self.depth = 0

    def fail(self, what: str, col: int | None = None) -> None:
        col = len(self.src) if col is None else col
        msg = f"--where: {what} at column {col + 1}:\n  {self.src}\n  {' ' * col}^"
        raise UsageError(msg)

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str, int]:
        t = self.peek()
        if t is None:
            self.fail("the expression ends too early")
        self.i += 1
        return t  # type: ignore[return-value]

    def word(self, w: str) -> bool:
        t = self.peek()
        if t and t[0] == "name" and t[1].lower() == w:
            self.i += 1
            return True
        return False

    def parse(self) -> Pred:
        if not self.toks:
            self.fail("empty expression", 0)
        p = self.or_()
        t = self.peek()
        if t is not None:
            self.fail(f"unexpected {t[1]!r}", t[2])
        return p

    def or_(self) -> Pred:
        parts = [self.and_()]
        while self.word("or"):
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else (lambda ev: any(p(ev) for p in parts))

    def and_(self) -> Pred:
        parts = [self.not_()]
        while self.word("and"):
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else (lambda ev: all(p(ev) for p in parts))

    def not_(self) -> Pred:
        negate = False
        while self.word("not"):  # a loop, not recursion: 5000 nots are fine
            negate = not negate
        inner = self.cmp()
        return (lambda ev: not inner(ev)) if negate else inner

    def cmp(self) -> Pred:
        t = self.peek()
        if t and t[1] == "(":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                msg = f"--where: parentheses nested deeper than {MAX_DEPTH} levels at column {t[2] + 1}; simplify it"
                raise UsageError(msg)
            inner = self.or_()
            self.depth -= 1
            close = self.peek()
            if not close or close[1] != ")":
                self.fail("expected ')'", close[2] if close else None)
            self.take()
            return inner
        left = self.operand()
        t = self.peek()
        if not t or t[0] != "op" or t[1] in "()":
            return lambda ev: _truthy(left(ev))
        op = self.take()[1]
        right_tok = self.peek()
        right = self.operand()
        if op in ("=~", "!~"):
            if right_tok is None or right_tok[0] != "str":
                self.fail("a regex match needs a quoted pattern", right_tok[2] if right_tok else None)
            try:
                rx = re.compile(right({}))
            except re.error as exc:
                self.fail(f"bad regex ({exc})", right_tok[2])  # type: ignore[index]
            want = op == "=~"
            return lambda ev: isinstance(v := left(ev), str) and (rx.search(v) is not None) == want
        fn = _CMP[op]
        return lambda ev: _compare(fn, op, left(ev), right(ev))

    def operand(self) -> Callable[[dict[str, Any]], Any]:
        kind, text, col = self.take()
        if kind == "num":
            value: Any = float(text) if any(c in text for c in ".eE") else int(text)
            return lambda ev: value
        if kind == "str":
            s = _unquote(text)
            return lambda ev: s
        if kind == "name":
            low = text.lower()
            if low in _CONST:
                const = _CONST[low]
                return lambda ev: const
            if low in ("and", "or", "not"):
                self.fail(f"expected a field or value, got {text!r}", col)
            path = _path(text)
            self.fields.append(path)
            return lambda ev: _get(ev, path)
        self.fail(f"expected a field or value, got {text!r}", col)
        raise AssertionError  # unreachable


def _get(ev: Any, path: list[str]) -> Any:
    for k in path:
        if not isinstance(ev, dict) or k not in ev:
            return None
        ev = ev[k]
    return ev


def _compare(fn: Callable[[Any, Any], bool], op: str, a: Any, b: Any) -> bool:
    a, b = decode_nonfinite(a), decode_nonfinite(b)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return op in ("==", "<=", ">=")  # "metrics.loss == nan" finds diverged steps
    if a is None or b is None:
        return fn(a, b) if op in ("==", "!=") else False
    num_a = isinstance(a, (int, float)) and not isinstance(a, bool)
    num_b = isinstance(b, (int, float)) and not isinstance(b, bool)
    if num_a != num_b or (not num_a and type(a) is not type(b)):
        return op == "!="
    try:
        return bool(fn(a, b))
    except TypeError:
        return False


def _truthy(v: Any) -> bool:
    return v is not None and v is not False and v != 0 and v != ""


def compile_where(src: str) -> Pred:
    """Parse ``src`` into a predicate over event dicts.

    Raises:
        UsageError: the expression is malformed, with a caret at the column.
    """
    return _Parser(src).parse()


def where_fields(src: str) -> list[list[str]]:
    """The field paths an expression reads (``metrics["a/b"] > 1`` → ``[["metrics", "a/b"]]``).

    Raises:
        UsageError: the expression is malformed.
    """
    parser = _Parser(src)
    parser.parse()
    return parser.fields


# Quoted keys: metrics["rewards/acc/mean"] (the name token allows [ "..." ] parts).
_SEGMENT = re.compile(r"""\.?([A-Za-z_][A-Za-z0-9_\-]*)|\[\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\]""")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _path(text: str) -> list[str]:
    """``metrics["a/b"].c`` → ``["metrics", "a/b", "c"]``."""
    return [m.group(1) if m.group(1) is not None else _unquote(m.group(2)) for m in _SEGMENT.finditer(text)]
