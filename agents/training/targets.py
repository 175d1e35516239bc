"""Which ``_target_`` / ``class_path`` a config may name: an allow-list of import prefixes.

Hydra instantiates any importable callable a config names, so a config from
someone else (an experiment preset, a shared run directory) is code: its
``_target_`` could be ``shutil.copyfile`` or ``stable_baselines3.PPO.load`` on a
crafted zip. A target resolves here only when its dotted path lies under

* the project's packages (``lepton_env``, ``agents``, ``experiments``),
* ``stable_baselines3`` and ``sb3_contrib`` classes (not their functions or
  class methods such as ``PPO.load``),
* ``torch.nn`` activation classes (``torch.nn.ReLU`` ..., for ``activation_fn``),
* a prefix the user lists in the config's ``allowed_targets`` (``[my_agents]``).

A prefix matches whole dotted components: ``my_agents`` allows
``my_agents.tabular.TabularQAgent`` but not ``my_agents_evil.X``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

#: Import prefixes every config may name.
PROJECT_PREFIXES = ("lepton_env", "agents", "experiments")
#: Libraries whose classes (only) a config may name.
LIBRARY_PREFIXES = ("stable_baselines3", "sb3_contrib")
#: Keys holding a dotted path that something instantiates or imports.
TARGET_KEYS = ("_target_", "class_path")
#: An SB3 ``policy`` keyword: an alias of the algorithm ("MlpPolicy") or a class's dotted path.
POLICY_KEY = "policy"


class TargetNotAllowedError(ValueError):
    """A config names a ``_target_`` / ``class_path`` outside the allow-list."""


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".")


def _torch_activation(path: str) -> bool:
    if not _under(path, "torch.nn"):
        return False
    from torch.nn.modules import activation

    return path.rsplit(".", 1)[-1] in getattr(activation, "__all__", ())


def _library_class(path: str) -> bool:
    """``path`` is a class importable from SB3 / sb3-contrib (never a function or method)."""
    module_name, _, name = path.rpartition(".")
    if not module_name or not name.isidentifier():
        return False
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    return inspect.isclass(getattr(module, name, None))


def check_target(path: Any, where: str, allowed: Sequence[str] = ()) -> str:
    """``path`` if it is an allowed target, else :class:`TargetNotAllowedError` naming ``where``."""
    if not isinstance(path, str) or not all(part.isidentifier() for part in path.split(".")):
        raise TargetNotAllowedError(f"{where} = {path!r}: not a dotted Python path")
    if any(_under(path, prefix) for prefix in (*PROJECT_PREFIXES, *allowed)):
        return path
    if any(_under(path, prefix) for prefix in LIBRARY_PREFIXES) and _library_class(path):
        return path
    if _torch_activation(path):
        return path
    raise TargetNotAllowedError(
        f"{where} = {path!r}: not an allowed target. Allowed: {list(PROJECT_PREFIXES)}, "
        f"classes of {list(LIBRARY_PREFIXES)}, torch.nn activations, and the prefixes in "
        f"the config's allowed_targets (now {list(allowed)}); add its package there, e.g. "
        f"allowed_targets: [{path.split('.')[0]}], if you trust it"
    )


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
    already checked against the allow-list with the other targets, is imported and must
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
