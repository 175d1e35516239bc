"""Writing a run directory: whole files or none, never through a link, errors in one line.

* :func:`atomic_path` / :func:`write_text`: every file of a run directory (models,
  ``run.json``, ``config.yaml``, statistics, manifests, the lock's holder record) is
  written to a fresh temporary file beside it, created with ``O_EXCL | O_NOFOLLOW``
  (a link there is never opened), flushed to disk and renamed over the target
  (``os.replace`` replaces a link itself, never its target). A kill at any point
  leaves the old file or the new one, never a truncated one.
* :func:`refuse_links_out`: a run directory holding a symbolic link to anything
  outside itself is refused before anything is written (resuming a copied run
  once wrote through such links, and checkpoint rotation deleted another run's
  checkpoint through a linked folder). The run directory's own path may pass
  through links (``runs -> /scratch/runs``): only what is inside it is checked.
* :class:`RunWriteError`: an ``OSError`` while writing (a full disk, a read-only
  mount) as one line naming the path; the entry points print it and exit 4.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL = ".partial"


class RunWriteError(RuntimeError):
    """A run-directory file could not be written; the message names it and the reason."""

    def __init__(self, path: Path, error: OSError) -> None:
        reason = error.strerror or str(error)
        code = errno.errorcode.get(error.errno or 0, "")
        super().__init__(
            f"could not write {path}: {reason}{f' ({code})' if code else ''}; "
            "the last complete checkpoint is kept, and re-running the command resumes from it"
        )
        self.path = path
        self.errno = error.errno


class RunDirectoryLinkError(ValueError):
    """A run directory holds a link to something outside it."""


def partial_path(path: Path) -> Path:
    """The temporary name ``path`` is written under (same folder, same suffix)."""
    return path.with_name(f".{path.stem}{PARTIAL}{path.suffix}")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A fresh file to write ``path``'s new content into; renamed over ``path`` on success.

    The temporary file keeps ``path``'s suffix (SB3 and NumPy add one to a name
    without it). On any error it is removed, the old ``path`` is left as it was,
    and an ``OSError`` is raised as :class:`RunWriteError` naming ``path``.
    """
    partial = partial_path(path)
    try:
        partial.unlink(
            missing_ok=True
        )  # a killed writer's leftover (a link: removed, not followed)
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644))
        yield partial
        _flush(partial)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise RunWriteError(path, error) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, never through a link."""
    with atomic_path(path) as partial:
        descriptor = os.open(partial, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)


def _flush(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def links_out(run_dir: Path) -> list[tuple[Path, Path]]:
    """Every ``(link, target)`` inside ``run_dir`` whose target lies outside it."""
    if not run_dir.is_dir():
        return []
    root = run_dir.resolve()
    found = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in (*dirs, *files):
            entry = Path(folder) / name
            if entry.is_symlink():
                target = entry.resolve()
                if target != root and root not in target.parents:
                    found.append((entry.relative_to(root), target))
    return found


def refuse_links_out(run_dir: Path) -> None:
    """Refuse (:class:`RunDirectoryLinkError`) a run directory holding links outside itself."""
    found = links_out(run_dir)
    if found:
        shown = "; ".join(f"{link} -> {target}" for link, target in found[:3])
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise RunDirectoryLinkError(
            f"{run_dir} holds links to files outside it: {shown}{more}. A run writes nothing "
            "through a link: remove them, or copy the run with its files (cp -rL) into a new "
            "directory"
        )
