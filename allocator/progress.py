"""A progress line on stderr for runs longer than a few seconds."""

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class Progress:
    """Prints `allocator: <stage> (<seconds>s)` every `every` seconds once a run has taken
    `after` seconds; silent for quick runs, so small cases print nothing extra."""

    def __init__(self, stream: TextIO | None, after: float = 2.0, every: float = 2.0) -> None:
        self._stream = stream
        self._after = after
        self._every = every
        self._stage = "starting"
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def silent(cls) -> "Progress":
        return cls(None)

    @classmethod
    def to_stderr(cls) -> "Progress":
        return cls(sys.stderr)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._stage = name
        if self._stream is not None and self._thread is None:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        yield

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)

    def _tick(self) -> None:
        wait = self._after
        while not self._stop.wait(wait):
            elapsed = time.monotonic() - self._started
            assert self._stream is not None
            print(f"allocator: {self._stage} ({elapsed:.0f}s)", file=self._stream, flush=True)
            wait = self._every
