""" "Did you mean" for command lines Hydra refused: group options and keys.

Hydra answers ``agent=PPO`` with the list of options and ``agnt=ppo`` with
"Could not override"; after such a refusal the entry points print the closest
known option or key (a case-insensitive match first, then ``difflib``'s
closest, similarity >= 0.6). Options are read from the config tree's group
folders and from any ``hydra.searchpath=[file://...]`` or ``--config-dir`` on
the command line; nothing is printed when no close match is known.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

#: Options that are always valid for any group.
ALWAYS_VALID = ("null",)


def search_dirs(argv: Sequence[str], configs: Path) -> list[Path]:
    """The config tree and every folder the command line adds to Hydra's search path."""
    dirs = [configs]
    for index, arg in enumerate(argv):
        if arg.startswith("hydra.searchpath="):
            for entry in arg.split("=", 1)[1].strip("[]").split(","):
                entry = entry.strip().strip("'\"")
                if entry.startswith("file://"):
                    dirs.append(Path(entry.removeprefix("file://")))
        elif arg in ("--config-dir", "-cd") and index + 1 < len(argv):
            dirs.append(Path(argv[index + 1]))
        elif arg.startswith("--config-dir="):
            dirs.append(Path(arg.split("=", 1)[1]))
    return dirs


def group_options(dirs: Iterable[Path]) -> dict[str, set[str]]:
    """Group name -> option names (the ``*.yaml`` stems of each top-level folder)."""
    options: dict[str, set[str]] = {}
    for directory in dirs:
        if not directory.is_dir():
            continue
        for group in directory.iterdir():
            if group.is_dir():
                stems = {path.stem for path in group.glob("*.yaml")}
                if stems:
                    options.setdefault(group.name, set()).update(stems)
    return options


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate equal to ``word`` but for case, else the closest one, else None."""
    pool = sorted(candidates)
    for candidate in pool:
        if candidate.lower() == word.lower():
            return candidate
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return matches[0] if matches else None


def suggestions(
    argv: Sequence[str], options: dict[str, set[str]], keys: Iterable[str]
) -> list[str]:
    """One ``did you mean`` line per override naming an unknown option or top-level key."""
    known_keys = set(keys) | set(options) | {"hydra"}
    lines = []
    for arg in argv:
        if arg.startswith("-") or "=" not in arg:
            continue
        key, value = arg.split("=", 1)
        key = key.lstrip("+~")
        group = key.split("@", 1)[0]
        if group in options:
            for choice in value.split(","):
                if choice in options[group] or choice in ALWAYS_VALID or "$" in choice:
                    continue
                match = closest(choice, options[group])
                if match is not None:
                    lines.append(f"{group}={choice}: did you mean {group}={match}?")
        elif group.split(".", 1)[0] not in known_keys:
            head, dot, rest = group.partition(".")
            match = closest(head, known_keys)
            if match is not None:
                lines.append(f"{arg}: did you mean {match}{dot}{rest}={value}?")
    return lines


def with_suggestions(
    hydra_main: Callable[[], Any], command: str, configs: Path, keys: Iterable[str]
) -> Callable[[], Any]:
    """``hydra_main`` that, when Hydra refuses the command line, adds the closest matches."""
    known = tuple(keys)

    def main() -> Any:
        try:
            return hydra_main()
        except SystemExit as refused:
            if refused.code == 1:
                argv = sys.argv[1:]
                options = group_options(search_dirs(argv, configs))
                for line in suggestions(argv, options, known):
                    print(f"{command}: {line}", file=sys.stderr)
            raise

    main.__doc__ = hydra_main.__doc__
    return main
