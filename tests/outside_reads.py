"""Record every file or folder the test process opens in a team folder beside the repository.

On the development machine the project sits beside a team folder, `shared`; a clone does not. A test that
reads from there passes here and fails everywhere else. `install()` adds an audit hook (PEP 578)
that notes each `open`, `os.listdir` and `os.scandir` of a path under those folders, whether or
not the path exists; tests/conftest.py fails the test that did it. Subprocesses (the CLI) are
not covered: they get their paths from the test, which the static check in
tests/test_self_contained.py reads.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIBLINGS = ("shared",)  # team material kept beside the repository, never part of a clone
_FOLDERS = tuple(sorted({os.path.abspath(REPO.parent / name) for name in SIBLINGS}))
_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})

reached: list[str] = []
_installed = False


def _is_outside(path: str) -> bool:
    return any(path == folder or path.startswith(folder + os.sep) for folder in _FOLDERS)


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event not in _EVENTS or not args:
        return
    target = args[0]
    if not isinstance(target, str | bytes | os.PathLike):
        return  # a file descriptor, or None for the current folder
    path = os.path.abspath(os.fsdecode(target))
    if _is_outside(path):
        reached.append(path)


def install() -> None:
    """Add the audit hook once per process (audit hooks cannot be removed)."""
    global _installed
    if not _installed:
        sys.addaudithook(_audit)
        _installed = True


def take() -> list[str]:
    """The paths reached since the last call, and forget them."""
    paths = list(reached)
    reached.clear()
    return paths
