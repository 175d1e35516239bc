"""Which ``_target_`` / ``class_path`` a config may name, checked before anything is built.

Hydra instantiates any importable callable a config names, so a config from
someone else (an experiment preset, a shared run directory) is code: its
``_target_`` could be ``shutil.copyfile``, ``stable_baselines3.PPO.load`` on a
crafted zip, or NumPy's ``load`` reached through a module attribute
(``lepton_env.core.np.load``). A target is therefore resolved, never matched by
its text: it must be a class (or listed function) on the registry of
constructible kinds, defined where that kind lives
(:mod:`lepton_env.experiments.target_registry`), or defined under a prefix the
user lists in ``allowed_targets`` (``[my_agents]``; whole dotted components:
``my_agents`` allows ``my_agents.tabular.TabularQAgent`` but not ``my_agents_evil.X``).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from lepton_env.experiments.target_registry import TargetNotAllowedError, resolve

__all__ = [
    "TargetNotAllowedError",
    "check_prefixes",
    "check_target",
    "check_targets",
    "policy_class",
    "targets_in",
]

#: Keys holding a dotted path that something instantiates or imports.
TARGET_KEYS = ("_target_", "class_path")
#: An SB3 ``policy`` keyword: an alias of the algorithm ("MlpPolicy") or a class's dotted path.
POLICY_KEY = "policy"


def check_target(path: Any, where: str, allowed: Sequence[str] = ()) -> str:
    """``path`` if the registry admits it, else :class:`TargetNotAllowedError` naming ``where``."""
    resolve(path, where, allowed)
    return str(path)


def targets_in(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    """Every ``(key path, target)`` under ``value`` (nested mappings and lists)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if key in TARGET_KEYS or (key == POLICY_KEY and _dotted(item)):
                yield path, item
            else:
                yield from targets_in(item, path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from targets_in(item, f"{where}[{index}]")


def _dotted(value: Any) -> bool:
    return isinstance(value, str) and "." in value


def policy_class(value: Any, where: str = "agent.model.policy") -> Any:
    """An SB3 ``policy`` keyword as the algorithm takes it.

    An alias (``"MlpPolicy"``) is the algorithm's to resolve and is returned as is; a
    dotted path (``"lepton_env.agents.training.policies.MaskableMultiCategoricalPolicy"``),
    already checked against the registry with the other targets, is imported and must
    name a subclass of SB3's ``BasePolicy``.
    """
    if not _dotted(value):
        return value
    from hydra.utils import get_class
    from stable_baselines3.common.policies import BasePolicy

    try:
        found = get_class(value)
    except Exception as error:
        raise TargetNotAllowedError(f"{where} = {value!r}: {error}") from None
    if not (inspect.isclass(found) and issubclass(found, BasePolicy)):
        raise TargetNotAllowedError(
            f"{where} = {value!r}: not a policy class (a subclass of SB3's BasePolicy), "
            "nor an alias of the algorithm such as 'MlpPolicy'"
        )
    return found


def check_targets(value: Any, where: str, allowed: Iterable[str] = ()) -> None:
    """Check every ``_target_`` / ``class_path`` nested in ``value`` (see :func:`check_target`).

    A ``policy`` given as a dotted path is checked the same way (it is imported).
    """
    prefixes = tuple(allowed)
    for path, target in targets_in(value, where):
        check_target(target, path, prefixes)


def check_prefixes(allowed: Any, where: str = "allowed_targets") -> tuple[str, ...]:
    """The user's ``allowed_targets``: a list of dotted package prefixes."""
    if allowed is None:
        return ()
    if isinstance(allowed, str) or not isinstance(allowed, Sequence):
        raise TargetNotAllowedError(f"{where} = {allowed!r}: a list of package prefixes")
    for prefix in allowed:
        if not isinstance(prefix, str) or not all(p.isidentifier() for p in prefix.split(".")):
            raise TargetNotAllowedError(f"{where}: {prefix!r} is not a dotted package prefix")
    return tuple(allowed)
