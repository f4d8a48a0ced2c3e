"""Phases: nested, timed sections of a run, as context managers and decorators.

Each run's open phases are kept here (not in the run): the first phase of a
run registers one finish hook with it, which closes whatever is still open
as ``interrupted`` before ``run_end``.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from eventlog import _clock, _run
from eventlog._constants import PHASE_CHECKPOINT, PHASE_TRAINING_STEP
from eventlog._values import as_count

__all__ = ["checkpoint", "current_phase", "current_step", "phase", "set_step"]

F = TypeVar("F", bound=Callable[..., Any])
_current: ContextVar[phase | None] = ContextVar("eventlog_phase", default=None)
_RECENT = 10
_COUNTS = frozenset({"total_steps", "total_epochs", "total_batches", "total_questions", "batch_size"})
_SETUP_AS_STEP = 1.0  # seconds of a phase before its first step that count as one step for the ETA
_open: WeakKeyDictionary[_run.Run, dict[int, phase]] = WeakKeyDictionary()
_open_lock = threading.Lock()
_main = [threading.main_thread().ident]  # the main thread's ident (a fork from another thread makes a new one)


def _new_main() -> None:
    _main[0] = threading.main_thread().ident


os.register_at_fork(after_in_child=_new_main)


def _open_phases(st: _run.Run) -> dict[int, phase]:
    """The run's open phases by id, in opening order (the first call registers the finish hook)."""
    opened = _open.get(st)
    if opened is not None:
        return opened
    with _open_lock:
        opened = _open.get(st)
        if opened is None:
            opened = _open[st] = {}
            st.on_finish(functools.partial(_close_all, opened))
    return opened


def _close_all(opened: dict[int, phase]) -> None:
    """Close every phase still open, innermost first, as ``interrupted``."""
    for p in reversed(list(opened.values())):
        p._end("interrupted", None)


class phase:  # noqa: N801 - used like a function: ``with eventlog.phase("validation"):``
    """A timed section: ``phase_start`` on enter, ``phase_end`` on exit.

    Use it as ``with eventlog.phase("validation", total_batches=28) as p:`` or
    as a decorator ``@eventlog.phase("initialization")``. An exception marks
    the phase ``failed`` (and propagates); KeyboardInterrupt marks it
    ``interrupted``; a phase still open when the run finishes is closed as
    ``interrupted``.

    Args:
        name: the phase name (``validation``, ``training``, ...).
        label: banner text instead of the name.
        step: the training step it belongs to (inherited by nested phases).
        **info: numbers shown under the banner (``total_batches=28``...).
    """

    def __init__(self, name: str, /, *, label: str | None = None, step: int | None = None, **info: Any) -> None:
        self.name = name
        self.label = label
        self.info = {k: as_count(v) if k in _COUNTS else v for k, v in info.items()}  # numpy totals too
        self._step = step
        self.id: int | None = None
        self.parent: phase | None = None
        self.t0 = 0.0
        self._clock: _clock.Clock = _clock.current()
        self._summary: dict[str, Any] = {}
        self._token: Any = None
        self._recent: deque[float] = deque(maxlen=_RECENT)
        self._steps_done = 0
        self._steps_started = 0
        self._first_step = 0.0  # elapsed when this phase's first step_phase() started
        self._in_steps = 0.0  # seconds inside its steps that ended ok
        self._batches = 0
        self._questions: Any = None
        self._closed = False
        self._thread: int | None = None  # the thread that opened it (see current_phase)

    # --- context manager / decorator ------------------------------------------

    def __enter__(self) -> phase:
        if self._closed:  # a phase object used again (one per epoch): a new phase, as if made anew
            self.__init__(self.name, label=self.label, step=self._step, **self.info)  # type: ignore[misc]
        st = _run.current_run()
        self.parent = current_phase()
        self._thread = threading.get_ident()
        self.id = next(st.phase_ids) if st is not None else -1
        self._clock = st.clock if st is not None else _clock.current()
        self.t0 = self._clock.monotonic()
        fields: dict[str, Any] = {"phase": self.name, "id": self.id}
        if self.parent is not None and self.parent.id is not None and self.parent.id >= 0:
            fields["parent"] = self.parent.id
        if self.step is not None:
            fields["step"] = self.step
        if self.label:
            fields["label"] = self.label
        fields.update(self.info)
        if st is not None:
            _open_phases(st)[self.id] = self
        self._token = _current.set(self)
        _run.emit("phase_start", **fields)
        return self

    def __exit__(self, tp: type[BaseException] | None, value: BaseException | None, tb: Any) -> None:
        st = _run.current_run()
        if tp is None or (issubclass(tp, SystemExit) and getattr(value, "code", None) in (0, None)):
            status, error = "ok", None
        elif issubclass(tp, SystemExit):  # sys.exit(n): atexit cannot see n, so record it here
            status, error = "failed", f"SystemExit: {getattr(value, 'code', '?')}"
            if st is not None and st.status is None:
                st.status, st.error = "failed", error
        elif issubclass(tp, (KeyboardInterrupt, GeneratorExit)) or _cancelled(tp):
            status, error = "interrupted", None
        else:
            status, error = "failed", f"{tp.__name__}: {value}"[:2000]
        if self.parent is None and st is not None and status != "interrupted":  # see Run.failed_phase
            st.failed_phase = error
        try:
            _current.reset(self._token)
        except ValueError:  # exited in another context (a generator moved threads); fall back
            _current.set(self.parent)
        self._end(status, error)

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with phase(self.name, label=self.label, step=self._step, **self.info):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    def _end(self, status: str, error: str | None) -> None:
        if self._closed:
            return
        self._closed = True
        duration = self._clock.monotonic() - self.t0
        st = _run.current_run()
        if st is not None and self.id is not None:
            _open_phases(st).pop(self.id, None)
        fields: dict[str, Any] = {"phase": self.name, "id": self.id, "status": status, "duration": round(duration, 6)}
        if self.parent is not None and self.parent.id is not None and self.parent.id >= 0:
            fields["parent"] = self.parent.id
        if self.step is not None:
            fields["step"] = self.step
        if self.label:
            fields["label"] = self.label
        if error:
            fields["error"] = error
        fields.update(self._totals(duration))
        fields.update(self._summary)
        _run.emit("phase_end", **fields)
        if self.parent is not None and self.name == PHASE_TRAINING_STEP and status == "ok":
            self.parent._recent.append(duration)
            self.parent._steps_done += 1
            self.parent._in_steps += duration

    def _totals(self, duration: float) -> dict[str, Any]:
        """The totals the phase counted itself: questions and time per batch, steps completed."""
        out: dict[str, Any] = {}
        if self._batches:
            if self._questions is not None:
                out["questions_processed"] = self._questions
            out["batches"] = self._batches
            out["avg_batch_time"] = round(duration / self._batches, 6)
        if self._steps_started:
            out["steps_completed"] = self._steps_done
        return out

    # --- state and helpers ----------------------------------------------------

    @property
    def step(self) -> int | None:
        """The step of this phase or the nearest enclosing one that has one."""
        if self._step is not None:
            return self._step
        return self.parent.step if self.parent is not None else None

    @property
    def elapsed(self) -> float:
        """Seconds since the phase started."""
        return self._clock.monotonic() - self.t0

    def summary(self, **numbers: Any) -> None:
        """Add totals to the ``phase_end`` event (``questions=7405, avg_reward=0.51``)."""
        self._summary.update(numbers)

    def val_batch(self, batch: int, *, total_batches: int | None = None, **fields: Any) -> None:
        """Emit ``val_batch`` with elapsed and ETA from this phase's clock.

        Args:
            batch: the 1-based batch just finished.
            total_batches: defaults to this phase's ``total_batches``.
            **fields: ``questions``, ``avg_reward`` and any metrics.
        """
        total = total_batches if total_batches is not None else self.info.get("total_batches")
        elapsed = self.elapsed
        out: dict[str, Any] = {"batch": batch, "total_batches": total}
        if "total_questions" in self.info and "questions" in fields:
            out["total_questions"] = self.info["total_questions"]
        out.update(fields)
        out["elapsed"] = round(elapsed, 3)
        self._batches += 1
        if fields.get("questions") is not None:
            self._questions = fields["questions"]
        if isinstance(total, int) and batch > 0:
            out["eta"] = round(elapsed / batch * max(0, total - batch), 3)
        if self.step is not None and "step" not in out:
            out["step"] = self.step
        _run.emit("val_batch", **out)

    def step_phase(self, step: int, *, epoch: float | None = None, **info: Any) -> phase:
        """A ``training_step`` child phase with epoch, progress, elapsed and ETA.

        ETA is the steps left (this one included) times the time a step takes:
        the mean of the last ten step durations of this phase, plus the time
        spent between its steps so far (validation, checkpoints) per step done.
        Before any step of this phase has finished (the first step, also after a
        resume) the time the phase ran
        before this step counts as one step when it is at least a second (seed
        001: 42 s before step 1 of 35); else the ETA is unknown and shows ``?``,
        never a made-up ``0.0s``.
        """
        total = self.info.get("total_steps")
        fields: dict[str, Any] = {}
        if epoch is not None:
            fields["epoch"] = epoch
            if "total_epochs" in self.info:
                fields["total_epochs"] = self.info["total_epochs"]
        if total is not None:
            fields["total_steps"] = total
        elapsed = self.elapsed
        if not self._steps_started:
            self._first_step = elapsed
        fields["elapsed"] = round(elapsed, 3)
        if isinstance(total, int):
            left = max(0, total - step + 1)
            if self._recent:
                between = max(0.0, elapsed - self._first_step - self._in_steps) / max(1, self._steps_done)
                fields["eta"] = round((sum(self._recent) / len(self._recent) + between) * left, 3)
            elif elapsed >= _SETUP_AS_STEP or left == 0:
                fields["eta"] = round(elapsed * left, 3)
        fields.update(info)
        self._steps_started += 1
        return phase(PHASE_TRAINING_STEP, step=step, **fields)


def _cancelled(tp: type[BaseException]) -> bool:
    """An asyncio task cancelled (Ctrl-C under ``asyncio.run``, ``wait_for``'s timeout): interrupted, not failed."""
    aio = sys.modules.get("asyncio")  # never imported here: only a program that uses asyncio can be cancelled
    return aio is not None and issubclass(tp, aio.CancelledError)


def current_phase() -> phase | None:
    """The innermost open phase of this context; from a worker thread (whose context starts empty), the main
    thread's innermost open phase (the training loop's), never a phase another worker thread opened."""
    p = _current.get()
    while p is not None and p._closed:  # closed by finish() while its block still ran: not a parent any more
        p = p.parent
    if p is not None:
        return p
    main = _main[0]
    if threading.get_ident() == main:  # the main thread (asyncio tasks too) has its own phases in its context
        return None
    st = _run.current_run()
    opened = list(_open.get(st, {}).values()) if st is not None else []
    if not opened:
        return None
    # A worker thread (its context starts empty): the main thread's innermost phase, never another worker's.
    return next((q for q in reversed(opened) if q._thread == main), None)


def _step_context(payload: dict[str, Any]) -> None:
    """A ``step_metrics`` payload of the innermost open step phase's step: its missing epoch and totals."""
    p = _current.get()
    if p is None:
        if threading.get_ident() == _main[0]:  # no phase here: the hot path's common case, at once
            return
        p = current_phase()  # a worker thread: the main thread's
    while p is not None and p.name != PHASE_TRAINING_STEP:
        p = p.parent
    if p is None or p._step is None or payload.get("step") != p._step:
        return
    for key in _STEP_CONTEXT:
        if key not in payload and key in p.info:
            payload[key] = p.info[key]


_STEP_CONTEXT = ("epoch", "total_epochs", "total_steps")
_run.step_context = _step_context


def current_step() -> int | None:
    """The step of the innermost phase that has one, else the last :func:`set_step`."""
    p = current_phase()
    s = p.step if p is not None else None
    if s is None:
        st = _run.current_run()
        s = st.last_step if st is not None else None
    return s


def set_step(step: int) -> None:
    """Set the step that log events are stamped with outside step phases."""
    st = _run.current_run()
    if st is not None:
        st.last_step = step


class checkpoint:  # noqa: N801
    """Save a checkpoint inside a ``checkpoint`` phase; on success emit a ``checkpoint`` event.

    ``with eventlog.checkpoint(step, "ckpt/step_10.npz"): np.savez(...)``; the
    size is read from the path (a file, or every file under a directory).
    ``label`` replaces the banner's words (``CHECKPOINT SAVING``); the step
    still follows as ``(Step N)``.
    """

    def __init__(self, step: int, path: str | os.PathLike[str], *, label: str | None = None) -> None:
        self.step_no = step
        self.path = os.fspath(path)
        self._phase = phase(PHASE_CHECKPOINT, label=label, step=step, path=self.path)

    def __enter__(self) -> checkpoint:
        self._phase.__enter__()
        return self

    def __exit__(self, tp: type[BaseException] | None, value: BaseException | None, tb: Any) -> None:
        if tp is None:
            size = _size_of(Path(self.path))
            duration = round(self._phase.elapsed, 6)
            fields: dict[str, Any] = {"step": self.step_no, "path": self.path, "duration": duration}
            if size is not None:
                fields["size_bytes"] = size
                self._phase.summary(size_bytes=size)
            _run.emit("checkpoint", **fields)
        self._phase.__exit__(tp, value, tb)


def _size_of(p: Path) -> int | None:
    try:
        if p.is_file():
            return p.stat().st_size
        if p.is_dir():
            return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    except OSError:
        return None
    return None
