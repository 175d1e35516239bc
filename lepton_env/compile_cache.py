"""One freshness stamp for every compiled function of the simulation.

Numba's cache (``cache=True``) stamps a compiled function with the hash of the one
source file that defines it. The quarter's loops in :mod:`lepton_env.kernel.batch`
inline phases and call mechanisms defined in other files, and read constants of
others still (:mod:`lepton_env.types`, :mod:`lepton_env.features`): edit one of those
and numba would load the old machine code without a word.

Here the stamp of a function defined in the simulation's compiled sources is the hash
of all of them together (:data:`COMPILED_SOURCES`), so an edit to any one of them
recompiles everything that may have inlined it, and nothing else changes: the cache
still lives where numba puts it (``__pycache__`` beside the sources, or
``NUMBA_CACHE_DIR``). Installed by importing this module, which
:mod:`lepton_env` does before anything is compiled. It uses numba's cache-locator
classes (``numba.core.caching``, the extension point behind
``NUMBA_CACHE_LOCATOR_CLASSES``).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from numba.core import caching

PACKAGE = Path(__file__).resolve().parent

#: The files compiled code is built from: the kernel and the mechanisms (folders), and
#: the modules whose functions or constants they use.
COMPILED_SOURCES = (
    "kernel",
    "mechanisms",
    "rng.py",
    "types.py",
    "features.py",
    "params.py",
    "state.py",
)


def compiled_files() -> list[Path]:
    """Every source file of :data:`COMPILED_SOURCES`, in a fixed order."""
    files: list[Path] = []
    for name in COMPILED_SOURCES:
        path = PACKAGE / name
        files.extend(sorted(path.glob("*.py")) if path.is_dir() else [path])
    return files


@functools.lru_cache(maxsize=8)
def _digest(stats: tuple[tuple[str, int, int], ...]) -> bytes:
    # Keyed by (path, mtime, size) so that a file changed while the process runs is
    # hashed again, as numba does for its one file.
    digest = hashlib.sha256()
    for name, _, _ in stats:
        digest.update(name.encode())
        digest.update(Path(name).read_bytes())
    return digest.digest()


def sources_stamp() -> bytes:
    """The SHA-256 of the compiled sources' names and contents."""
    stats = []
    for path in compiled_files():
        status = os.stat(path)
        stats.append((str(path), status.st_mtime_ns, status.st_size))
    return _digest(tuple(stats))


def _is_compiled_source(py_file: str) -> bool:
    path = Path(py_file).resolve()
    return any(path == file for file in compiled_files())


class _PackageStamp:
    """Numba's locators, with the stamp of all the compiled sources."""

    def get_source_stamp(self) -> Any:
        return sources_stamp()

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> Any:
        if not _is_compiled_source(py_file):
            return None
        return super().from_function(py_func, py_file)  # type: ignore[misc]


class UserProvidedPackageLocator(_PackageStamp, caching.UserProvidedCacheLocator):
    """``NUMBA_CACHE_DIR``, stamped with all the compiled sources."""


class InTreePackageLocator(_PackageStamp, caching.InTreeCacheLocator):
    """``__pycache__`` beside the sources, stamped with all the compiled sources."""


def install() -> None:
    """Put the package's locators first (idempotent); other code keeps numba's own."""
    # ``CacheImpl`` from numba 0.62, ``_CacheImpl`` before.
    implementation = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # type: ignore[attr-defined]
    locators = implementation._locator_classes
    for locator in (InTreePackageLocator, UserProvidedPackageLocator):
        if locator not in locators:
            locators.insert(0, locator)


install()
