"""The 0.1 flat module paths under lepton_env.agents import their new modules, with a warning.

Old run directories' config.yaml name them in ``_target_`` and ``policy``
(``lepton_env.agents.baselines.RandomAgent``); these tests import them in a fresh
interpreter, where nothing has imported the aliases yet.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lepton_env.agents import MOVED


def fresh_python(code: str) -> str:
    """Run ``code`` in a new interpreter (every warning shown); its stdout."""
    result = subprocess.run(
        [sys.executable, "-W", "always::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_every_old_module_is_its_new_module_with_a_warning() -> None:
    code = f"""
import importlib, json, sys, warnings
import lepton_env.agents
light = not {{"torch", "stable_baselines3", "sb3_contrib"}} & set(sys.modules)
rows = {{}}
for old, new in {MOVED!r}.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module("lepton_env.agents." + old)
    target = importlib.import_module("lepton_env.agents." + new)
    rows[old] = {{
        "same": module is target,
        "name": module.__name__,
        "spec": module.__spec__.name,
        "warnings": [(w.category.__name__, str(w.message)) for w in caught
                     if "lepton_env.agents." + old + " " in str(w.message)],
    }}
print(json.dumps({{"light": light, "rows": rows}}))
"""
    result = json.loads(fresh_python(code))
    assert result["light"], "importing lepton_env.agents imported torch or SB3"
    for old, new in MOVED.items():
        row = result["rows"][old]
        assert row["same"], old
        assert row["name"] == row["spec"] == f"lepton_env.agents.{new}", old
        ((category, message),) = row["warnings"]
        assert category == "DeprecationWarning"
        assert f"lepton_env.agents.{new}" in message


def test_an_old_run_directorys_targets_pass_the_allow_list_and_name_the_same_classes() -> None:
    code = """
import warnings
warnings.simplefilter("ignore", DeprecationWarning)
from hydra.utils import instantiate
from lepton_env.agents.players.heuristics import RandomAgent
from lepton_env.agents.training.policies import MaskableMultiCategoricalPolicy
from lepton_env.agents.training.targets import check_targets, policy_class
model = {
    "_target_": "sb3_contrib.MaskablePPO",
    "policy": "lepton_env.agents.policies.MaskableMultiCategoricalPolicy",
}
baseline = {"_target_": "lepton_env.agents.baselines.RandomAgent", "_partial_": True}
check_targets({"model": model, "baseline": baseline}, "agent")
print(policy_class(model["policy"]) is MaskableMultiCategoricalPolicy)
print(instantiate(baseline).func is RandomAgent)
"""
    assert fresh_python(code).split() == ["True", "True"]


def test_a_name_that_never_existed_is_still_missing() -> None:
    with pytest.raises(ModuleNotFoundError, match=r"lepton_env\.agents\.nothing_here"):
        __import__("lepton_env.agents.nothing_here")
