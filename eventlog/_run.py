"""The run of this process: start(), emit(), flush(), finish() and what the process hooks do.

A :class:`Run` holds the file (``_files``), the writer (``_writer``) and the
console (``_console``). The process hooks (``_hooks``) are given this
module's callbacks; phases and other layers above register their own
:meth:`Run.on_finish` callables, so nothing here imports them.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from eventlog import _clock, _hooks
from eventlog._columns import columns_from_keys
from eventlog._config import Config, load_config
from eventlog._console import Console
from eventlog._constants import STATUS_RUN
from eventlog._evalfiles import EvalFiles
from eventlog._files import end_torn_line, next_seq, open_run_file
from eventlog._hooks import die_of, install_process_hooks, install_sigterm, register_mp_finalizer
from eventlog._inherit import child_config, export, rank_from_env, worker_slot
from eventlog._render import Renderer
from eventlog._schema import Refused, encode
from eventlog._values import as_count
from eventlog._writer import SEQ_PLACEHOLDER, Writer
from eventlog.exceptions import ConfigError, ValidationError

__all__ = ["Run", "current_run", "emit", "finish", "flush", "reset", "start"]

# Set by ``_phase`` (which imports this module): gives a ``step_metrics`` payload without ``total_steps``
# the epoch and totals of the step phase it is emitted in, so the step table shows ``1/4`` and ``1/2``.
step_context: Callable[[dict[str, Any]], None] | None = None


class Run:
    """The state of the run in this process (one per process)."""

    def __init__(self, config: Config, console_stream: IO[str] | None = None) -> None:
        self.config = config
        self.rank = config.rank if config.rank is not None else rank_from_env()
        self.clock = _clock.current()
        self.run = config.run or time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock.time()))
        self.dir = Path(config.dir) if config.dir else Path("runs") / self.run
        self.strict = config.strict
        self.pid = os.getpid()
        self.host = socket.gethostname()
        self.t0 = self.clock.monotonic()
        self.phase_ids = itertools.count()
        self.last_step: int | None = None
        self.status: str | None = None
        self.error: str | None = None
        self.failed_phase: str | None = None  # the error that ended the last outermost phase, until one ends ok
        self.finished = False
        self.finishing: int | None = None  # the thread running finish()
        self.die_of: int | None = None  # a signal that arrived during finish(): re-raised at its end
        self._warned: set[str] = set()
        self._finish_hooks: list[Callable[[], None]] = []
        self.file = open_run_file(self.dir, self.rank, self.pid, worker_slot())
        self.path = self.file.path
        end_torn_line(self.path)
        self.writer = Writer(
            str(self.path),
            seq_start=next_seq(self.path),
            flush_interval=config.flush_interval,
            fsync=config.fsync,  # type: ignore[arg-type]
            queue_size=config.queue_size,
            on_full=config.on_full,  # type: ignore[arg-type]
        )
        self.file_events = frozenset(config.file_events) if config.file_events else None
        self.eval_files = EvalFiles(self.dir) if config.eval_files and self.rank == 0 else None
        self.console = self._make_console(console_stream)

    def on_finish(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when the run finishes, before ``run_end`` (hooks added last run first)."""
        self._finish_hooks.append(hook)

    def _make_console(self, stream: IO[str] | None) -> Console | None:
        cfg = self.config
        if self.rank != 0 or cfg.console == "off" or self.pid != _main_pid:
            return None
        columns = columns_from_keys(cfg.columns) if cfg.columns else None
        renderer = Renderer(
            cfg.console,
            verbose=cfg.verbosity == "verbose",
            columns=columns,
            header_every=cfg.header_every,
            console_level=cfg.console_level,
            eval_saved=self.eval_files.saved if self.eval_files is not None else None,
        )
        events = frozenset(cfg.console_events) if cfg.console_events else None
        return Console(renderer, stream, events=events)

    def warn(self, key: str, message: str) -> None:
        """Warn once per distinct problem (non-strict mode)."""
        if key in self._warned:
            return
        self._warned.add(key)
        warnings.warn(f"eventlog: {message}", RuntimeWarning, stacklevel=4)

    def elapsed(self) -> float:
        return self.clock.monotonic() - self.t0


_state: Run | None = None
_main_pid = os.getpid()
_pid = _main_pid  # this process's pid, refreshed by the at-fork hook (os.getpid() is a syscall)
_init_lock = threading.RLock()
_no_run_warned = False
_sigterm_waiting = False  # init() ran on another thread: the main thread's next emit() installs the hook


def start(
    dir: str | os.PathLike[str] | None = None,
    *,
    run: str | None = None,
    config: Mapping[str, Any] | None = None,
    console_stream: IO[str] | None = None,
    **settings: Any,
) -> Run:
    """Start this process's run and emit ``run_start`` (``eventlog.init`` adds the logging bridge).

    Raises:
        ConfigError: a setting is invalid or the directory is not writable.
    """
    global _state
    with _init_lock:
        if _state is not None and not _state.finished and _state.pid == os.getpid():
            _implicit_finish()
        cfg = load_config({"dir": os.fspath(dir) if dir is not None else None, "run": run, **settings})
        st = Run(cfg, console_stream)
        _state = st
        _install_hooks(st)
        export(st.config, st.dir, st.run, st.rank)
    start: dict[str, Any] = {"host": st.host, "pid": st.pid, "argv": [str(a) for a in sys.argv]}
    ws = os.environ.get("WORLD_SIZE")
    if ws and ws.isdigit():
        start["world_size"] = int(ws)
    if config is not None:
        start["config"] = dict(config)
    for key in ("total_steps", "total_epochs"):
        total = as_count(config.get(key)) if config is not None else None
        if isinstance(total, int) and not isinstance(total, bool):
            start[key] = total
    emit("run_start", **start)
    return st


def current_run() -> Run | None:
    """The active run of this process, or None."""
    st = _state
    return st if st is not None and st.pid == os.getpid() else _child_run()


def _child_run() -> Run | None:
    """Re-open the run in a forked or spawned child that inherited it (or its env)."""
    global _state
    with _init_lock:
        st = _state
        if st is not None and st.pid == os.getpid():
            return st
        try:
            cfg, parent = child_config(st)
            if cfg is None:
                return None  # emit() says so; flush(), set_step() or a lookup lose nothing
            child = Run(cfg)
        except ConfigError as exc:
            sys.stderr.write(f"eventlog: {exc}\n")
            return None
        _state = child
        _install_hooks(child)
        register_mp_finalizer(_at_exit)
        emit("run_start", pid=child.pid, host=socket.gethostname(), **({"parent_pid": parent} if parent else {}))
        return child


def emit(event: str, /, **payload: Any) -> None:
    """Record one event: validate, stamp the envelope, encode it, hand the line to the writer.

    Raises:
        ValidationError: in strict mode, when the payload does not match the
            schema of a built-in or registered type (never for I/O trouble).
    """
    st = _state
    if st is None or st.pid != _pid:
        st = current_run()
        if st is None:
            _warn_no_run(event)
            return
    if _sigterm_waiting:
        _install_waiting_sigterm()
    if event == "step_metrics" and "total_steps" not in payload and step_context is not None:
        step_context(payload)
    ts = st.clock.time()
    if type(ts) is float:
        ts = round(ts * 1e6) / 1e6  # microseconds (round(x, 6) is 10x slower)
    ev: dict[str, Any] = {"v": 1, "ts": ts, "event": event, "run": st.run, "rank": st.rank, "seq": SEQ_PLACEHOLDER}
    try:
        ev, line = encode(event, payload, st.strict, st.warn, ev)  # the writer numbers the line
    except Refused:  # lenient mode, already warned: nothing that could be recorded
        return
    if st.finished:
        st.warn("emit-after-finish", f"event {event!r} emitted after finish(); it is not recorded")
        return
    if event == "eval_summary" and st.eval_files is not None:
        st.eval_files.save(ev)
    if st.console is not None:
        st.console.show(ev)
    if st.file_events is None or event in st.file_events:
        if isinstance(line, bytes):
            st.writer.put_line(line)
        else:
            st.writer.refused(line)


def _warn_no_run(event: str) -> None:
    """Once per process: an event was emitted with no run to record it."""
    global _no_run_warned
    if not _no_run_warned:
        _no_run_warned = True
        warnings.warn(
            f"eventlog: event {event!r} emitted before init(); it and later events are not recorded "
            "until eventlog.init() is called",
            RuntimeWarning,
            stacklevel=3,
        )


def flush() -> None:
    """Write everything emitted so far to the file before returning."""
    st = current_run()
    if st is not None and not st.finished:
        st.writer.flush()


def finish(status: str | None = None, *, error: str | None = None, mode: str | None = None) -> None:
    """End the run: close open phases as interrupted, emit ``run_end``, flush, close.

    Call it yourself to record the outcome without relying on the exit hook,
    e.g. ``eventlog.finish(status="failed", error=str(exc))`` in an except block;
    later calls and the exit hook then do nothing.

    Args:
        status: completed / failed / interrupted (default: what the process
            hooks saw, else completed).
        error: the error text for a failed run.
        mode: e.g. ``validation_only``.

    Raises:
        ValidationError: in strict mode, for a status that is not one of the three.
    """
    st = _state
    if st is None or st.finished or st.finishing is not None or st.pid != os.getpid():
        return
    if status is not None and status not in STATUS_RUN:
        msg = f"finish(status={status!r}): expected one of {', '.join(STATUS_RUN)}"
        if st.strict:
            raise ValidationError(msg)
        st.warn("finish-status", msg + "; recorded as failed")
        status, error = "failed", error or f"finish(status={status!r})"
    st.finishing = threading.get_ident()
    try:
        _finish(st, status, error, mode)
    finally:
        if not st.finished:  # a hook raised: a later finish() tries again
            st.finishing = None
        if st.die_of is not None:  # a signal interrupted this finish(): now the process dies of it
            die_of(st.die_of)


def _finish(st: Run, status: str | None, error: str | None, mode: str | None) -> None:
    for hook in reversed(st._finish_hooks):
        hook()
    st.writer.flush()  # room in the queue for run_end, and an exact events_dropped
    end: dict[str, Any] = {
        "status": status or st.status or "completed",
        "duration": round(st.elapsed(), 6),
        "events_dropped": st.writer.dropped,
    }
    if error or st.error:
        end["error"] = error or st.error
    if mode:
        end["mode"] = mode
    emit("run_end", **end)
    st.finished = True
    st.writer.close()
    st.file.close()


def reset() -> None:
    """Forget the current run without writing anything more (for tests)."""
    global _state, _no_run_warned
    st = _state
    _state = None
    _no_run_warned = False
    if st is not None and st.pid == os.getpid() and not st.finished:
        st.finished = True
        st.writer.close()


# --- process hooks ----------------------------------------------------------------


def _install_hooks(st: Run) -> None:
    global _sigterm_waiting
    install_process_hooks(at_exit=_at_exit, on_uncaught=_on_uncaught, after_fork=_after_fork_child)
    if st.config.signals != "off" and worker_slot() is None:  # a DataLoader worker keeps PyTorch's handlers
        install_sigterm(_on_sigterm, _on_signal, st.config.signals)
        _sigterm_waiting = threading.current_thread() is not threading.main_thread()


def _install_waiting_sigterm() -> None:
    global _sigterm_waiting
    _hooks.sigterm_waiting()
    _sigterm_waiting = _hooks._waiting is not None


def _at_exit() -> None:
    _implicit_finish()


def _implicit_finish() -> None:
    """finish() of a run nobody finished (the exit hook, or init() again): when the last outermost phase ended
    with an exception that no excepthook saw (a notebook cell that raised), the run failed, not completed."""
    st = _state
    if st is not None and st.status is None and st.failed_phase is not None:
        finish(status="failed", error=st.failed_phase)
    else:
        finish()


def _on_uncaught(tp: type[BaseException], value: BaseException) -> None:
    """An uncaught exception decides the status that the exit hook's finish() records."""
    st = _state
    if st is not None and st.pid == os.getpid() and not st.finished:
        if issubclass(tp, KeyboardInterrupt):
            st.status = "interrupted"
        else:
            st.status = "failed"
            st.error = f"{tp.__name__}: {value}"[:2000]


def _on_sigterm(signum: int) -> bool:
    """Finish as interrupted; True when the process may die now (no one else handles the signal).

    This runs inside the signal handler, on the main thread, wherever that
    thread was. Nothing it reaches waits for a lock the interrupted code may
    hold (the console only tries its lock; the writer is told through a deque
    and a pipe). When it interrupted a finish() already under way on this
    thread (multiprocessing's exit finalizer, when Pool.terminate() signals a
    worker), it does not start a second one: it asks that finish() to die of
    SIGTERM once it is done, and returns False.
    """
    st = _state
    if st is not None and st.pid == os.getpid() and st.finishing is not None and not _finished(st):
        if st.finishing == threading.get_ident():
            st.die_of = signum
            return False
        deadline = time.monotonic() + 10.0  # another thread is finishing: let it write run_end
        while not _finished(st) and time.monotonic() < deadline:
            time.sleep(0.005)
        return True
    finish("interrupted", error=signal.Signals(signum).name)
    return True


def _on_signal(signum: int) -> None:
    """A signal handed on to the program's own handler: record it and flush; nothing here takes a lock.

    Unless something else decides it, the run then ends as interrupted, whenever it ends.
    """
    st = _state
    if st is None or st.pid != os.getpid() or st.finished or st.finishing is not None:
        return
    name = signal.Signals(signum).name
    if st.status is None:
        st.status, st.error = "interrupted", name
    msg = f"{name} received; left to the program's own handler"
    emit("log", level="warning", msg=msg, logger="eventlog", signal=name)
    st.writer.flush(5.0)


def _finished(st: Run) -> bool:
    """finish() is over: run_end is queued and the writer closed (or the run was never finishing)."""
    return st.finished and st.writer.pump.closed


def _after_fork_child() -> None:
    """In a forked child: drop the parent's backlog, file and lock; the first emit opens the child's own file."""
    global _pid
    _pid = os.getpid()
    st = _state
    if st is not None:
        st.writer.abandon()
        st.console = None
        st.file.release()
