"""The lifeline of a run worker process: it ends the worker when the service is gone.

Only the standard library is imported here, on purpose: this is each worker's initializer, and
a spawned worker runs it before anything else, so the watch is in place while the worker is
still importing the solver (seconds on a loaded machine). Were it in `api.services.worker`, a
service killed during those imports would leave workers that import, then wait for ever.
"""

import os
import signal
import threading
from multiprocessing.connection import Connection

# Workers run at a lower CPU priority than the service, so requests stay fast while runs use
# every core (a run is as fast as before when nothing else wants the CPU).
WORKER_NICENESS = 10
# How often a worker also checks that its parent is still the service (the pipe is the fast path).
PARENT_POLL_SECONDS = 1.0


def watch_parent(lifeline: Connection, service_pid: int) -> None:
    """Initializer of each worker process. `lifeline` is the reading end of a pipe whose only
    writing end the service holds: it becomes readable (end of file) when the service process
    ends, however it ends. A thread then ends this worker with `os._exit`, whatever the run is
    doing (its database transaction is rolled back). The parent pid is checked too, in case the
    writing end ever outlived the service in another process.

    Ctrl-C in a terminal signals the whole process group: workers ignore it and the service
    shuts down for them (without this a worker prints a KeyboardInterrupt traceback).
    (`prctl(PR_SET_PDEATHSIG)` is not used: it fires when the *thread* that started the worker
    ends, and the pool starts workers from whichever request thread submits a run.)"""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(WORKER_NICENESS)
    threading.Thread(target=_end_with_parent, args=(lifeline, service_pid), name="parent-watch", daemon=True).start()


def _end_with_parent(lifeline: Connection, service_pid: int) -> None:
    while os.getppid() == service_pid:
        try:
            if lifeline.poll(PARENT_POLL_SECONDS):
                break  # nothing is ever sent: readable means the service's end has closed
        except (EOFError, OSError):
            break
    os._exit(1)
