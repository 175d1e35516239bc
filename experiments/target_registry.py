"""The registry of what a config may construct: each ``_target_`` must resolve to one of these.

A dotted path is a recipe for an import and a chain of attribute look-ups, and a
module's attributes include everything it imported: ``lepton_env.core.np.load``
is NumPy's ``load`` (with ``allow_pickle``), ``lepton_env.core.np.savetxt``
writes any file. So a path is never judged by its text. :func:`resolve` imports
the path's module (only under a prefix named below), takes exactly one attribute
from it, and admits the object only if it is a class (or a listed function) of a
kind on this registry, defined where that kind lives (its own ``__module__``):

==================  ============================================  ==========================
kind                what qualifies                                defined under
==================  ============================================  ==========================
reward              the reward classes of ``lepton_env.reward``   ``lepton_env``
baseline / search   subclasses of ``HeuristicAgent``              ``lepton_env``
algorithm           subclasses of SB3's ``BaseAlgorithm``         SB3, sb3-contrib
policy              subclasses of SB3's ``BasePolicy``            SB3, sb3-contrib, lepton_env
features extractor  subclasses of ``BaseFeaturesExtractor``       SB3, sb3-contrib, lepton_env
activation          the classes of ``torch.nn.modules.activation``  torch
optimizer           subclasses of ``torch.optim.Optimizer``       torch
schedule            SB3's schedule classes and functions          SB3
sampler / pruner    Optuna's ``BaseSampler`` / ``BasePruner``     optuna
==================  ============================================  ==========================

Loggers, output formats, callbacks, wrappers, savers and loaders are none of
these: a class with file effects (``CSVOutputFormat(filename)`` empties a file)
is refused like a function. A user's own classes and functions come in by the
prefixes listed in ``allowed_targets`` (whole dotted components, the object's
``__module__`` under the prefix); only the command line or the user's own
Python call lists them (experiments/provenance.py), never a loaded run directory.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: Import prefixes under which a path may be imported at all (nothing else is imported).
KNOWN_PREFIXES = ("lepton_env", "stable_baselines3", "sb3_contrib", "torch", "optuna")


class TargetNotAllowedError(ValueError):
    """A config names a ``_target_`` / ``class_path`` that is not on the registry."""


@dataclass(frozen=True)
class Kind:
    """One kind of constructible thing: what qualifies and where it must be defined."""

    name: str
    modules: tuple[str, ...]  # the object's own __module__ lies under one of these
    admits: Callable[[Any], bool]  # the object is of this kind


def under(path: str, prefix: str) -> bool:
    """``path`` is ``prefix`` or lies below it, by whole dotted components."""
    return path == prefix or path.startswith(prefix + ".")


def _subclass_of(base: str) -> Callable[[Any], bool]:
    def admits(candidate: Any) -> bool:
        module, _, name = base.rpartition(".")
        return inspect.isclass(candidate) and issubclass(
            candidate, getattr(importlib.import_module(module), name)
        )

    return admits


def _one_of(*paths: str) -> Callable[[Any], bool]:
    def admits(candidate: Any) -> bool:
        return any(candidate is _import(path) for path in paths)

    return admits


def _import(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name, None)


def _activation(candidate: Any) -> bool:
    from torch.nn.modules import activation

    return inspect.isclass(candidate) and candidate.__name__ in activation.__all__


SB3 = ("stable_baselines3", "sb3_contrib")
#: The registry: every kind of thing a config may construct.
KINDS: tuple[Kind, ...] = (
    Kind(
        "reward",
        ("lepton_env",),
        _one_of(
            "lepton_env.reward.ProfitReward",
            "lepton_env.reward.ValuationReward",
            "lepton_env.reward.MarketShareReward",
            "lepton_env.reward.RiskAdjustedReward",
        ),
    ),
    Kind(
        "baseline or search",
        ("lepton_env",),
        _subclass_of("lepton_env.agents.players.heuristics.HeuristicAgent"),
    ),
    Kind("algorithm", SB3, _subclass_of("stable_baselines3.common.base_class.BaseAlgorithm")),
    Kind(
        "policy",
        (*SB3, "lepton_env"),
        _subclass_of("stable_baselines3.common.policies.BasePolicy"),
    ),
    Kind(
        "features extractor",
        (*SB3, "lepton_env"),
        _subclass_of("stable_baselines3.common.torch_layers.BaseFeaturesExtractor"),
    ),
    Kind("activation", ("torch.nn.modules.activation",), _activation),
    Kind("optimizer", ("torch.optim", *SB3), _subclass_of("torch.optim.Optimizer")),
    Kind(
        "schedule",
        ("stable_baselines3.common.utils",),
        _one_of(
            *(
                f"stable_baselines3.common.utils.{name}"
                for name in (
                    *("ConstantSchedule", "FloatSchedule", "LinearSchedule"),
                    *("constant_fn", "get_linear_fn", "get_schedule_fn"),
                )
            )
        ),
    ),
    Kind("sampler", ("optuna.samplers",), _subclass_of("optuna.samplers.BaseSampler")),
    Kind("pruner", ("optuna.pruners",), _subclass_of("optuna.pruners.BasePruner")),
)


def _locate(path: str) -> tuple[Any, str]:
    """The object ``path`` names: its longest importable module, then exactly one attribute."""
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        rest = parts[split:]
        if len(rest) != 1:
            raise LookupError(
                f"{'.'.join(rest)!r} is an attribute chain of module {module_name!r}, not a "
                "class defined there"
            )
        if not hasattr(module, rest[0]):
            raise LookupError(f"module {module_name!r} has no attribute {rest[0]!r}")
        return getattr(module, rest[0]), module_name
    raise LookupError(f"no module of {path!r} can be imported")


def _kind_of(found: Any) -> Kind | None:
    module = getattr(found, "__module__", None) or ""
    for kind in KINDS:
        if any(under(module, prefix) for prefix in kind.modules) and kind.admits(found):
            return kind
    return None


def _resolve(path: str, allowed: tuple[str, ...]) -> tuple[Any, str] | str:
    """``(object, kind name)`` for an allowed ``path``; else why not (a sentence)."""
    user = [prefix for prefix in allowed if under(path, prefix)]
    if not user and not any(under(path, prefix) for prefix in KNOWN_PREFIXES):
        return "not under an allowed prefix (nothing was imported)"
    try:
        found, _ = _locate(path)
    except LookupError as error:
        return str(error)
    if not (inspect.isclass(found) or inspect.isfunction(found)):
        return f"a {type(found).__name__}, not a class or function"
    module = getattr(found, "__module__", None) or ""
    if user:
        if any(under(module, prefix) for prefix in allowed):
            return found, "listed in allowed_targets"
        return f"defined in {module!r}, outside the allowed_targets {list(allowed)}"
    kind = _kind_of(found)
    if kind is None:
        return f"{found.__qualname__} (defined in {module!r}) is on no list of constructible kinds"
    return found, kind.name


def resolve(path: Any, where: str, allowed: Sequence[str] = ()) -> Any:
    """What ``path`` names, if the registry admits it; else refuse, naming ``where``."""
    if not isinstance(path, str) or not all(part.isidentifier() for part in path.split(".")):
        raise TargetNotAllowedError(f"{where} = {path!r}: not a dotted Python path")
    result = _resolve(path, tuple(allowed))
    if isinstance(result, str):
        head = path.split(".")[0]
        hint = (
            ""
            if any(under(path, prefix) for prefix in (*KNOWN_PREFIXES, *allowed))
            else f"; if you trust package {head!r}: allowed_targets=[{head}] on the command line"
        )
        raise TargetNotAllowedError(
            f"{where} = {path!r}: not an allowed target: {result}. Allowed: the registry's "
            f"{', '.join(kind.name for kind in KINDS)} (docs/security.md), and what the "
            f"packages in allowed_targets (now {list(allowed)}) define{hint}"
        )
    return result[0]


def kind(path: str, allowed: Sequence[str] = ()) -> str:
    """The registry kind of an allowed ``path`` (for messages and tests)."""
    result = _resolve(path, tuple(allowed))
    if isinstance(result, str):
        raise TargetNotAllowedError(f"{path!r}: {result}")
    return result[1]
