"""The compile cache is stamped with every compiled source, not only the defining file."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from lepton_env import compile_cache
from lepton_env.kernel import batch


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_every_module_the_compiled_code_imports_is_stamped() -> None:
    stamped = {path.resolve() for path in compile_cache.compiled_files()}
    package = compile_cache.PACKAGE
    for source in compile_cache.compiled_files():
        for module in _imported_modules(source):
            if not module.startswith("lepton_env."):
                continue
            relative = Path(*module.split(".")[1:])
            candidates = [package / relative.with_suffix(".py"), package / relative / "__init__.py"]
            found = [path for path in candidates if path.is_file()]
            assert not found or found[0].resolve() in stamped, (source.name, module)


def test_the_kernel_loops_use_the_package_stamp() -> None:
    locator = batch._step_loop._cache._impl.locator
    assert isinstance(locator, compile_cache._PackageStamp)
    assert locator.get_source_stamp() == compile_cache.sources_stamp()


def test_an_edit_to_any_compiled_source_changes_the_stamp(tmp_path, monkeypatch) -> None:
    copy = tmp_path / "lepton_env"
    for name in compile_cache.COMPILED_SOURCES:
        source = compile_cache.PACKAGE / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            copy.mkdir(exist_ok=True)
            shutil.copy(source, copy / name)
    monkeypatch.setattr(compile_cache, "PACKAGE", copy)
    before = compile_cache.sources_stamp()
    assert compile_cache.sources_stamp() == before
    # A phase the loops inline, and a mechanism they call: neither defines the loops.
    for edited in (copy / "kernel" / "phases_books.py", copy / "mechanisms" / "fit.py"):
        edited.write_text(edited.read_text() + "\n# edited\n")
        after = compile_cache.sources_stamp()
        assert after != before
        before = after


def test_code_outside_the_compiled_sources_keeps_numbas_locators(tmp_path) -> None:
    outside = tmp_path / "elsewhere.py"
    outside.write_text("def f():\n    return 1\n")
    assert not compile_cache._is_compiled_source(str(outside))
    assert compile_cache._is_compiled_source(str(compile_cache.PACKAGE / "kernel" / "batch.py"))
