"""A replica's worker processes: one bot process per core, on one port.

`python -m bot run` loads the model and builds the pipeline once (lingua's language models,
the texts, the help center: with the model, most of a worker's memory), then forks
`web.workers` processes (0: one per core this process may run on; `SUPPORTBOT_WORKERS` in the
environment overrides it), which share those pages. Each worker
is a whole bot: it binds the same port with SO_REUSEPORT, so the kernel spreads connections
(web chat, the Telegram webhook, the agent API) over them, and each one handles what it
receives inline, start to end, in its own event loop, on its own core. They share everything
else through Redis as replicas do (intake, outboxes, sessions, the queue), so what a worker
was doing when it died is recovered by the others like a dead replica's work.

Channels that hold the platform's one connection (Telegram's long polling, Discord's gateway,
X's polling) run in worker 0 only (`Channel.listens`); so do the periodic sweeps.

The parent only supervises: a worker that dies is started again (a second later); SIGTERM or
SIGINT stops them all; a worker that cannot start (exit code 2: Redis unreachable, a bad
setting) stops the replica, since every worker would fail alike. The workers die with the
parent (Linux's parent-death signal), so a killed parent leaves no orphan serving.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import uvloop

log = logging.getLogger(__name__)

STARTUP_FAILED = 2  # a worker's exit code when it cannot start: the replica stops
RESTART_DELAY_SECONDS = 1.0
STOP_GRACE_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def worker_count(configured: int, env: Mapping[str, str] | None = None) -> int:
    """How many workers to run: `SUPPORTBOT_WORKERS`, else `configured`, where 0 means one
    per core this process may run on."""
    env = os.environ if env is None else env
    raw = env.get("SUPPORTBOT_WORKERS", "").strip()
    count = int(raw) if raw.isdigit() else configured
    if count > 0:
        return count
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on uvloop's event loop (libuv's, in C), as the workers do: less CPU for each
    socket read and write than asyncio's own loop (README, "Benchmarks")."""
    uvloop.run(main)


def share_metrics_between_workers() -> None:
    """Counters and histograms summed over the workers at every scrape (prometheus_client's
    multiprocess mode): must run before `bot.metrics` is imported."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="supportbot-metrics-")


def run_workers(count: int, serve: Callable[[int], None]) -> int:
    """Run `serve(index)` in `count` forked processes until SIGTERM or SIGINT; with one, in
    this process. The exit code: 0, or `STARTUP_FAILED` when a worker could not start."""
    freeze_what_is_built()
    if count <= 1:
        serve(0)
        return 0
    supervisor = _Supervisor(serve)
    return supervisor.run(count)


def freeze_what_is_built() -> None:
    """Take every object built so far (the model and the pipeline: half a million) out of the
    garbage collector's sight, as Python's documentation advises before a fork. A full
    collection walks them all (~300 ms with the event loop stopped, on this VM), and writing
    to each one's header copies the model's shared pages into the worker that collects."""
    gc.collect()
    gc.freeze()


class _Supervisor:
    def __init__(self, serve: Callable[[int], None]) -> None:
        self.serve = serve
        self.children: dict[int, int] = {}  # pid -> worker index
        self.stopping = False
        self.code = 0

    def run(self, count: int) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for index in range(count):
            self._start(index)
        log.info("%d workers serving (pids %s)", count, ", ".join(map(str, self.children)))
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index = self.children.pop(pid, None)
            if index is None:
                continue
            _forget_metrics(pid)
            code = os.waitstatus_to_exitcode(status)
            if code == STARTUP_FAILED and not self.stopping:
                log.error("worker %d could not start: stopping the replica", index)
                self.code = STARTUP_FAILED
                self._stop()
            elif not self.stopping:
                log.warning("worker %d (pid %d) ended (%s): starting it again", index, pid, _said(code))
                time.sleep(RESTART_DELAY_SECONDS)
                self._start(index)
        return self.code

    def _start(self, index: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid:
            self.children[pid] = index
            return
        code = 0
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _die_with(parent)
            self.serve(index)
        except KeyboardInterrupt:
            pass
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            log.exception("worker %d failed", index)
            code = 1
        finally:
            logging.shutdown()
            sys.stdout.flush()
            os._exit(code)

    def _stop(self, *_: object) -> None:
        """Stop every worker: SIGTERM now, SIGKILL to those still there after the grace."""
        if self.stopping:
            return
        self.stopping = True
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)
        signal.signal(signal.SIGALRM, lambda *_: [_signal(pid, signal.SIGKILL) for pid in list(self.children)])
        signal.alarm(int(STOP_GRACE_SECONDS))


def _die_with(parent: int) -> None:
    """SIGTERM this process when `parent` dies (Linux); elsewhere a dead parent's workers
    notice nothing, so say so."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        log.warning("workers cannot follow the parent's death on this system")
    if os.getppid() != parent:  # it died before the signal was asked for
        os._exit(0)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _forget_metrics(pid: int) -> None:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def _said(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit code {code}"
