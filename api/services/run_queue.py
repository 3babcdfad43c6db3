"""The worker pool runs execute in, and the futures needed to cancel queued runs."""

import logging
import multiprocessing
import threading
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor

from api.services.worker import execute_run, warm_up
from api.settings import Settings

log = logging.getLogger("allocator.api.runs")


class RunQueue:
    def __init__(self, settings: Settings, database_url: str) -> None:
        self.database_url = database_url
        self.executor: Executor
        if settings.executor == "process":
            # spawn: the service process has threads; forking it is unsafe.
            context = multiprocessing.get_context("spawn")
            self.executor = ProcessPoolExecutor(settings.workers, mp_context=context)
            for _ in range(settings.workers):
                self.executor.submit(warm_up)
        else:
            self.executor = ThreadPoolExecutor(settings.workers, thread_name_prefix="allocator-run")
        self._futures: dict[str, Future[str]] = {}
        self._lock = threading.Lock()

    def submit(self, run_id: str) -> None:
        future = self.executor.submit(execute_run, self.database_url, run_id)
        with self._lock:
            self._futures[run_id] = future
        future.add_done_callback(lambda done: self._forget(run_id, done))

    def withdraw(self, run_id: str) -> None:
        """Stop a queued run from starting (a running one ends on its own; its result is dropped)."""
        with self._lock:
            future = self._futures.get(run_id)
        if future is not None:
            future.cancel()

    def _forget(self, run_id: str, done: "Future[str]") -> None:
        with self._lock:
            self._futures.pop(run_id, None)
        if not done.cancelled() and done.exception() is not None:
            log.error("run %s stopped with %s", run_id, type(done.exception()).__name__)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
