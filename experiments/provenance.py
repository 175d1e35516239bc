"""Configs from outside the package are data: they may not set Hydra's machinery or extend
what may run.

A folder added with ``hydra.searchpath=[file://...]`` or ``--config-dir`` (a
downloaded experiment preset, a preset lepton-tune wrote) can set any key of the
composed config, including what Hydra itself runs before an entry point starts:
``hydra.callbacks`` and the launcher and sweeper are instantiated, the logging
settings go to ``logging.config.dictConfig`` (a ``FileHandler`` empties any file,
``()`` names any factory), ``hydra.job.env_set`` sets the environment. And
``allowed_targets`` would let it name any class.

:func:`check_command_line` runs before Hydra whenever the command line adds a
config folder. It composes the config as given and again from the package alone
(with the command line's own Hydra settings, ``allowed_targets`` and the group
options the package holds), and refuses every difference under ``hydra`` (but its
runtime records) and in ``allowed_targets``, naming the key. A multirun's group
sweeps are checked option by option. It also refuses ``--experimental-rerun``
(Hydra unpickles the file it names) and, when ``hydra.run.dir`` is on the command
line, a run directory holding links outside itself before Hydra writes
``.hydra/`` into it.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Keys of the ``hydra`` node that record the run rather than configure it.
RECORDS = ("runtime", "overrides", "searchpath", "job")
#: ``hydra.job`` keys that configure what runs (the rest are records: name, ids, dirs).
JOB_SETTINGS = ("env_set", "env_copy", "chdir")
#: At most this many combinations of swept group options are composed.
MAX_COMBINATIONS = 64


class ConfigSourceError(ValueError):
    """A config from outside the package sets what only the package or the user may set."""


def _overrides(argv: Sequence[str]) -> tuple[Any, list[Any]]:
    from hydra._internal.utils import get_args_parser
    from hydra.core.override_parser.overrides_parser import OverridesParser

    args = get_args_parser().parse_args(list(argv))
    return args, OverridesParser.create().parse_overrides(list(args.overrides))


def _external_dirs(args: Any, parsed: list[Any], configs: Path) -> list[str]:
    dirs = [f"file://{Path(args.config_dir).resolve()}"] if args.config_dir else []
    for override in parsed:
        if override.key_or_group == "hydra.searchpath":
            dirs += [str(entry) for entry in override.value()]
    if args.config_path and Path(args.config_path).resolve() != configs.resolve():
        dirs.append(f"file://{Path(args.config_path).resolve()}")
    return dirs


def _group(override: Any) -> str | None:
    key = str(override.key_or_group)
    return None if "." in key else key


def _in_package(group: str, option: str, configs: Path, external: list[str]) -> bool:
    if group.startswith("hydra/"):  # Hydra's own options, unless a config folder adds one
        return not any(
            (Path(entry.removeprefix("file://")) / group / f"{option}.yaml").exists()
            for entry in external
        )
    return (configs / group / f"{option}.yaml").exists()


def _choices(override: Any) -> list[str]:
    if override.is_sweep_override():
        return [str(choice) for choice in override.sweep_string_iterator()]
    value = override.value()
    return [] if value is None else [str(value)]


def _compose(configs: Path, name: str, overrides: list[str]) -> Any:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(str(configs), version_base="1.3"):
        cfg = compose(name, overrides=overrides, return_hydra_config=True)
    hydra_node = OmegaConf.to_container(cfg.hydra, resolve=False)
    assert isinstance(hydra_node, dict)
    job = hydra_node.get("job") or {}
    settings = {key: value for key, value in hydra_node.items() if key not in RECORDS}
    settings["job"] = {key: job.get(key) for key in JOB_SETTINGS}
    allowed = OmegaConf.to_container(cfg, resolve=False).get("allowed_targets")  # type: ignore[union-attr]
    return settings, allowed


def _differences(given: tuple[Any, Any], package: tuple[Any, Any]) -> list[str]:
    settings, allowed = given
    reference, reference_allowed = package
    keys = sorted(set(settings) | set(reference))
    found = []
    for key in keys:
        if key == "job":
            found += [
                f"hydra.job.{inner}"
                for inner in JOB_SETTINGS
                if settings[key].get(inner) != reference[key].get(inner)
            ]
        elif settings.get(key) != reference.get(key):
            found.append(f"hydra.{key}")
    if allowed != reference_allowed:
        found.append("allowed_targets")
    return found


def check_command_line(argv: Sequence[str], configs: Path, config_name: str) -> None:
    """Refuse what a config folder outside the package sets that only the package or user may."""
    from lepton_env.experiments.run_files import refuse_links_out

    if "--experimental-rerun" in argv:
        raise ConfigSourceError(
            "--experimental-rerun unpickles the file it names (pickles run code): re-run with "
            "the command line recorded in .hydra/overrides.yaml instead"
        )
    try:
        args, parsed = _overrides(argv)
    except Exception:
        return  # Hydra reports a malformed command line itself
    for override in parsed:
        if override.key_or_group == "hydra.run.dir" and not args.multirun:
            refuse_links_out(Path(str(override.value())))
    external = _external_dirs(args, parsed, configs)
    if not external:
        return
    primary = Path(args.config_path).resolve() if args.config_path else configs
    name = args.config_name or config_name
    common: list[str] = [f"hydra.searchpath=[{','.join(external)}]"]
    package: list[str] = []
    swept: list[tuple[str, list[str]]] = []
    for override in parsed:
        key = str(override.key_or_group)
        text = str(override.input_line)
        if key == "hydra.searchpath":
            continue
        group = _group(override)
        if group is not None and override.is_delete():
            common.append(text)
            package.append(text)
        elif group is not None and (
            (primary / group).is_dir()
            or group.startswith("hydra/")
            or any((Path(e.removeprefix("file://")) / group).is_dir() for e in external)
        ):
            swept.append((text.split("=", 1)[0], _choices(override)))
        elif key.startswith("hydra.") or key == "allowed_targets":
            common.append(text)
            package.append(text)
    combinations = list(itertools.product(*(choices or [""] for _, choices in swept)))
    for combination in combinations[:MAX_COMBINATIONS]:
        given = [f"{key}={option}" for (key, _), option in zip(swept, combination, strict=True)]
        own = [
            choice
            for choice, (key, _) in zip(given, swept, strict=True)
            if _in_package(
                key.lstrip("+~").split("@")[0], choice.split("=", 1)[1], configs, external
            )
        ]
        try:
            composed = _compose(primary, name, [*common, *given])
        except Exception:
            return  # Hydra reports a config that does not compose itself
        reference = _compose(configs, config_name, [*package, *own])
        found = _differences(composed, reference)
        if found:
            raise ConfigSourceError(
                f"{', '.join(found)} set by a config outside the package "
                f"({', '.join(external)}; {' '.join(given) or 'its defaults'}): configs from "
                "elsewhere are data and may not set Hydra's callbacks, launcher, sweeper, "
                "logging or environment, nor extend allowed_targets. If you trust it, set "
                "that key on the command line instead (docs/security.md)"
            )


def guarded(
    hydra_main: Callable[[], Any], configs: Path, name: str, command: str
) -> Callable[[], Any]:
    """``hydra_main`` after :func:`check_command_line` (a refusal exits with status 2)."""
    from lepton_env.experiments.run_files import RunDirectoryLinkError

    def main() -> Any:
        try:
            check_command_line(sys.argv[1:], configs, name)
        except (ConfigSourceError, RunDirectoryLinkError) as error:
            print(f"{command}: {error}", file=sys.stderr)
            sys.exit(2)
        return hydra_main()

    main.__doc__ = hydra_main.__doc__
    return main
