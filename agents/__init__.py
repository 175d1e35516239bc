"""Agents, by concern.

* :mod:`lepton_env.agents.players`: the contenders themselves, the agent protocol, the
  heuristic baselines, the cross-entropy search baseline and the exact oracles.
* :mod:`lepton_env.agents.training`: what a training run needs, the agent factory,
  callbacks, the trust boundary for loading files, resume state, the masked policy and
  the allow-list of config targets.
* :mod:`lepton_env.agents.comparison`: how agents are compared, contenders, episode
  play, statistics, honest scores, reports, figures and the pipeline behind
  ``lepton-eval`` and ``lepton-compare``.

The flat module paths of release 0.1 (``lepton_env.agents.baselines``,
``lepton_env.agents.policies``, ...) still import, as deprecated aliases of their new
modules, for one release: old run directories' ``config.yaml`` name them in
``_target_`` (``lepton_env.agents.baselines.RandomAgent``). :data:`MOVED` lists them.
Importing this package imports nothing heavy (no torch, no SB3).
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

#: The 0.1 module name under ``lepton_env.agents`` -> its home now (relative to it). The
#: old names are deprecated, kept for one release.
MOVED = {
    "baseline_table": "comparison.baseline_table",
    "baselines": "players.heuristics",
    "callbacks": "training.callbacks",
    "contenders": "comparison.contenders",
    "episodes": "comparison.episodes",
    "evaluation": "comparison.evaluation",
    "factory": "training.factory",
    "loading": "training.loading",
    "oracle": "players.oracle",
    "plots": "comparison.plots",
    "policies": "training.policies",
    "protocol": "players.protocol",
    "reports": "comparison.reports",
    "resume_state": "training.resume_state",
    "scores": "comparison.scores",
    "search": "players.search",
    "stats": "comparison.stats",
    "targets": "training.targets",
    "tensorboard_reference": "comparison.tensorboard_reference",
}


class MovedModuleFinder(MetaPathFinder, Loader):
    """Imports an old ``lepton_env.agents.<module>`` as its new module, with a warning.

    The old name is bound to the new module object itself (``sys.modules``), so its
    classes are the same objects and ``isinstance`` / pickles by reference agree. The
    finder sits last on ``sys.meta_path``: it answers only names nothing else found.
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != __name__ or name not in MOVED:
            return None
        return ModuleSpec(fullname, self)

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        new_name = f"{__name__}.{MOVED[spec.name.rpartition('.')[2]]}"
        warnings.warn(
            f"{spec.name} is deprecated and will be removed in a later release: it is now "
            f"{new_name} (imports and config _target_ paths name that)",
            DeprecationWarning,
            stacklevel=2,
        )
        module = importlib.import_module(new_name)
        # The import system sets __spec__ to the alias's spec next; exec_module restores it.
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        alias = module.__spec__
        if alias is not None and isinstance(alias.loader_state, ModuleSpec):
            module.__spec__ = alias.loader_state


if not any(type(finder).__name__ == MovedModuleFinder.__name__ for finder in sys.meta_path):
    sys.meta_path.append(MovedModuleFinder())
