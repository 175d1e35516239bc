"""Run directories that name what differs, and resume refusals that say what differs.

A run is named ``<scenario>__<agent>__seed<seed>`` followed by a tag: the
experiment preset (``__toy_ppo``) and, when the command line changes the
run's identity further (``env=...`` or any ``scenario.*``, ``env.*``,
``agent.*`` key), the first six hex digits of the SHA-1 of those overrides,
sorted (``__h3f2a1c``). Budget, device, logging, evaluation and checkpoint keys
are not part of the name: re-running with a larger ``total_timesteps`` (or
``multiagent.iterations``) continues the same run. The tag is the ``${lepton_run_tag:}`` resolver of
``configs/train.yaml``; outside a Hydra run (the compose API) it is empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import OmegaConf

#: Groups and key prefixes whose overrides change what a run is (beyond scenario, agent, seed).
IDENTITY_GROUPS = ("env",)
IDENTITY_PREFIXES = ("scenario.", "env.", "agent.", "multiagent.")
#: Budget keys under those prefixes: like ``total_timesteps``, a larger one continues the
#: same run (PSRO's iterations: extended in place from the last checkpoint).
BUDGET_KEYS = ("multiagent.iterations",)


def _override_key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def identity_overrides(overrides: Sequence[str]) -> list[str]:
    """The overrides that change a run's identity, sorted (``agent=``/``scenario=`` excluded)."""
    kept = [
        override.strip()
        for override in overrides
        if (
            _override_key(override) in IDENTITY_GROUPS
            or _override_key(override).startswith(IDENTITY_PREFIXES)
        )
        and _override_key(override) not in BUDGET_KEYS
    ]
    return sorted(kept)


def run_tag(experiment: str | None, overrides: Sequence[str], multiagent: str | None = None) -> str:
    """``__<multiagent mode>``, ``__<experiment>`` and ``__h<sha1[:6]>`` of the identity
    overrides, each when present."""
    parts = [multiagent] if multiagent else []
    if experiment:
        parts.append(experiment.replace("/", "-"))
    identity = identity_overrides(overrides)
    if identity:
        digest = hashlib.sha1("\n".join(identity).encode()).hexdigest()
        parts.append(f"h{digest[:6]}")
    return "".join(f"__{part}" for part in parts)


def current_run_tag() -> str:
    """:func:`run_tag` of the running Hydra job; empty outside one (compose API, notebooks)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return ""
    hydra_cfg = HydraConfig.get()
    experiment = hydra_cfg.runtime.choices.get("experiment")
    multiagent = hydra_cfg.runtime.choices.get("multiagent")
    return run_tag(experiment, list(hydra_cfg.overrides.task), multiagent)


def register_resolvers() -> None:
    """Make ``${lepton_run_tag:}`` available to configs (idempotent)."""
    if not OmegaConf.has_resolver("lepton_run_tag"):
        OmegaConf.register_new_resolver("lepton_run_tag", current_run_tag)


def _leaves(node: Any, prefix: str) -> dict[str, Any]:
    if isinstance(node, Mapping):
        leaves: dict[str, Any] = {}
        for key, value in node.items():
            leaves.update(_leaves(value, f"{prefix}.{key}" if prefix else str(key)))
        return leaves or {prefix: {}}
    return {prefix: node}


#: Keys added after runs were written, with the value every older run behaved as: a run
#: without the key is the same run as one with this value.
ADDED_KEYS: dict[str, Any] = {"env.horizon_terminal": False, "multiagent": None}


def identity_differences(
    before: Mapping[str, Any], now: Mapping[str, Any], keys: Sequence[str]
) -> list[str]:
    """Every leaf under ``keys`` whose value differs, as ``key: <before> (run) != <now> (now)``
    (the :data:`BUDGET_KEYS` aside).

    A key present on one side only shows ``<absent>`` on the other, unless it is one of
    :data:`ADDED_KEYS`, which an older run lacks and behaved as its listed value.
    """
    absent = "<absent>"
    differences = []
    for key in keys:
        old = _leaves(before.get(key, absent), key)
        new = _leaves(now.get(key, absent), key)
        for leaf in sorted((old.keys() | new.keys()) - set(BUDGET_KEYS)):
            was, is_ = old.get(leaf, ADDED_KEYS.get(leaf, absent)), new.get(leaf, absent)
            if was != is_:
                differences.append(f"{leaf}: {was!r} in the run, {is_!r} now")
    return differences
