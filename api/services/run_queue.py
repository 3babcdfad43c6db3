"""The worker pool runs execute in: bounded, tied to the service's life, and mended when a
worker process dies.

- **Bounded.** At most `workers + max_queued_runs` runs are held at once (running, or waiting
  for a worker). A place (`place().take()`) is taken before a run is stored; past the bound it raises
  `QueueFull` (429 `queue_full` with `Retry-After`), so a refused run stores nothing. A run
  leaves the queue when it ends, or when a queued run is cancelled.
- **Workers die with the service.** Each worker process watches a pipe whose writing end only
  the service holds (`lifeline.watch_parent`): after a `kill -9` of the service its workers end
  within moments instead of going on with queued runs. The runs the database still has as
  queued or running are failed at the next start (`fail_interrupted`, audited `run_interrupted`).
- **A dead worker does not stop the service.** A worker killed on its own (out of memory, a
  signal) breaks a `ProcessPoolExecutor` for good: every run it holds fails with
  `BrokenProcessPool`. The queue starts a new pool; a run not yet started goes to it, the run
  that had started is failed with a reason and audited.
"""

import logging
import math
import multiprocessing
import os
import statistics
import threading
from collections import deque
from collections.abc import Collection
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

from api.errors import ApiError
from api.services.lifeline import watch_parent
from api.services.worker import execute_timed, warm_up
from api.settings import Settings
from api.storage import audit, runs
from api.storage.database import Database
from api.storage.runs import Interrupted, RunState

log = logging.getLogger("allocator.api.runs")

# Retry-After: about the time for one held run to end (the median of the last runs' times
# over the number of workers), within these bounds; FIRST_RETRY_AFTER before any run ended.
RECENT_RUNS = 20
FIRST_RETRY_AFTER = 5
MAX_RETRY_AFTER = 300


class QueueFull(ApiError):
    """429 `queue_full`: every worker is busy and `max_queued_runs` runs are waiting."""

    def __init__(self, held: int, retry_after: int) -> None:
        super().__init__(
            429,
            "queue_full",
            f"the run queue is full ({held} runs running or waiting); try again in {retry_after} s",
        )
        self.retry_after = retry_after


def fail_interrupted(database: Database, cause: str, run_ids: Collection[str] | None = None) -> list[Interrupted]:
    """Fail runs left queued or running by `cause` (every such run, or those of `run_ids`), each
    with a `run_interrupted` audit entry in the same transaction. Any of them can be started again."""
    with database.session() as session:
        failed = runs.fail_interrupted(session, cause, run_ids)
        for run in failed:
            details = {"run_id": run.run_id, "kind": run.kind, "was": run.was.value, "reason": run.error}
            audit.record(session, run.case_id, None, "run_interrupted", details)
    return failed


class Reservation:
    """A place in the queue for one run: `take()` it before the run is stored (`QueueFull` when
    there is none), `submit(run_id)` once stored. Leaving the `with` block without a submit gives
    a taken place back (the request failed and stored nothing)."""

    def __init__(self, queue: "RunQueue") -> None:
        self._queue = queue
        self._taken = False

    def take(self) -> None:
        self._queue._take()
        self._taken = True

    def submit(self, run_id: str) -> None:
        assert self._taken, "take() the place before submitting"
        self._queue._submit(run_id, reserved=True)
        self._taken = False

    def __enter__(self) -> "Reservation":
        return self

    def __exit__(self, *_exception: object) -> None:
        if self._taken:
            self._queue._release()


class RunQueue:
    def __init__(self, settings: Settings, database: Database, database_url: str) -> None:
        self.database = database
        self.database_url = database_url
        self.workers = settings.workers
        self.capacity = settings.workers + settings.max_queued_runs
        self._processes = settings.executor == "process"
        self._lock = threading.Lock()
        self._retire_lock = threading.Lock()
        self._futures: dict[str, Future[tuple[str, float]]] = {}
        self._reserved = 0
        self._recent: deque[float] = deque(maxlen=RECENT_RUNS)
        if self._processes:
            # spawn: the service process has threads; forking it is unsafe.
            self._context = multiprocessing.get_context("spawn")
            # The workers' lifeline, (reading end, writing end): each worker gets the reading end;
            # the writing end stays in this process alone, open until it ends, never written to.
            self._lifeline = self._context.Pipe(duplex=False)
        self.executor = self._new_executor()

    def _new_executor(self) -> Executor:
        if not self._processes:
            return ThreadPoolExecutor(self.workers, thread_name_prefix="allocator-run")
        executor = ProcessPoolExecutor(
            self.workers,
            mp_context=self._context,
            initializer=watch_parent,
            initargs=(self._lifeline[0], os.getpid()),
        )
        for _ in range(self.workers):
            executor.submit(warm_up)
        return executor

    def place(self) -> Reservation:
        """A place for one more run, to `take()` (see Reservation)."""
        return Reservation(self)

    def _take(self) -> None:
        with self._lock:
            held = len(self._futures) + self._reserved
            if held >= self.capacity:
                raise QueueFull(held, self._retry_after())
            self._reserved += 1

    def _release(self) -> None:
        with self._lock:
            self._reserved -= 1

    def _retry_after(self) -> int:
        if not self._recent:
            return FIRST_RETRY_AFTER
        seconds = statistics.median(self._recent) / self.workers
        return min(MAX_RETRY_AFTER, max(1, math.ceil(seconds)))

    def _submit(self, run_id: str, reserved: bool = False) -> None:
        executor = self.executor
        try:
            future = executor.submit(execute_timed, self.database_url, run_id)
        except BrokenExecutor:
            executor = self._replace(executor)
            future = executor.submit(execute_timed, self.database_url, run_id)
        with self._lock:
            self._futures[run_id] = future
            if reserved:
                self._reserved -= 1
        future.add_done_callback(lambda done: self._done(run_id, executor, done))

    def withdraw(self, run_id: str) -> None:
        """Stop a queued run from starting (a running one ends on its own; its result is dropped)."""
        with self._lock:
            future = self._futures.get(run_id)
        if future is not None:
            future.cancel()

    def _done(self, run_id: str, executor: Executor, done: "Future[tuple[str, float]]") -> None:
        error = None if done.cancelled() else done.exception()
        if isinstance(error, BrokenExecutor):
            # Keep the run's place while it is mended (off the pool's own thread).
            threading.Thread(target=self._mend, args=(run_id, executor), name="allocator-mend", daemon=True).start()
            return
        with self._lock:
            if self._futures.get(run_id) is done:
                del self._futures[run_id]
            if error is None and not done.cancelled():
                self._recent.append(done.result()[1])
        if error is not None:
            log.error("run %s stopped with %s", run_id, type(error).__name__)

    def _replace(self, broken: Executor) -> Executor:
        """The pool to use instead of `broken` (a new one, made once however many runs ask)."""
        with self._lock:
            if self.executor is broken:
                log.error("a worker process stopped; starting a new pool")
                self.executor = self._new_executor()
            return self.executor

    def _mend(self, run_id: str, broken: Executor) -> None:
        """A run held by a pool that broke: once every old worker has ended, a run still queued
        goes to the new pool and a run that had started is failed and audited."""
        try:
            self._replace(broken)
            with self._retire_lock:  # one shutdown at a time: concurrent ones race inside the executor
                broken.shutdown(wait=True)
            with self.database.session() as session:
                run = runs.get_run(session, run_id)
                status = None if run is None else run.status
            if status == RunState.QUEUED.value:
                self._submit(run_id)
                return
            fail_interrupted(self.database, "its worker process stopped", [run_id])
        except Exception as error:  # noqa: BLE001 - logged; the run is failed at the next start
            log.error("run %s could not be mended: %s", run_id, type(error).__name__)
        with self._lock:
            self._futures.pop(run_id, None)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
