"""The registry of constructible targets: a path is resolved, never matched by its text."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lepton_env.agents.training.targets import TargetNotAllowedError, check_target
from lepton_env.experiments.target_registry import kind


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("stable_baselines3.PPO", "algorithm"),
        ("sb3_contrib.MaskablePPO", "algorithm"),
        ("lepton_env.reward.ValuationReward", "reward"),
        ("lepton_env.agents.players.heuristics.UppsalaAgent", "baseline or search"),
        ("lepton_env.agents.players.search.CrossEntropySearchAgent", "baseline or search"),
        ("lepton_env.agents.training.policies.MaskableMultiCategoricalPolicy", "policy"),
        ("stable_baselines3.common.torch_layers.FlattenExtractor", "features extractor"),
        ("torch.nn.ReLU", "activation"),
        ("torch.optim.Adam", "optimizer"),
        ("stable_baselines3.common.utils.get_linear_fn", "schedule"),
        ("optuna.samplers.TPESampler", "sampler"),
        ("optuna.pruners.MedianPruner", "pruner"),
    ],
)
def test_every_kind_on_the_registry_resolves(path: str, expected: str) -> None:
    assert kind(path) == expected


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("lepton_env.reward.np.load", "attribute chain"),  # np.load(allow_pickle=True)
        ("lepton_env.core.np.savetxt", "attribute chain"),  # writes any file
        ("lepton_env.core.os.system", "attribute chain"),
        ("lepton_env.core.np", "a module, not a class"),
        ("stable_baselines3.PPO.load", "attribute chain"),
        ("stable_baselines3.common.logger.CSVOutputFormat", "no list of constructible kinds"),
        ("stable_baselines3.common.save_util.load_from_zip_file", "no list"),
        ("torch.load", "no list of constructible kinds"),
        ("torch.nn.Linear", "no list of constructible kinds"),
        ("lepton_env.make_params", "no list of constructible kinds"),
        ("shutil.copyfile", "nothing was imported"),
    ],
)
def test_module_attributes_and_file_effects_are_refused(path: str, reason: str) -> None:
    with pytest.raises(TargetNotAllowedError, match=reason):
        check_target(path, "env.reward._target_")


def test_project_folder_names_are_not_prefixes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed package named ``agents`` or ``experiments`` is not the project's."""
    marker = tmp_path / "imported"
    for name in ("agents", "experiments"):
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text(f"open({str(marker)!r}, 'w')\nclass X: pass\n")
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    for path in ("agents.X", "experiments.X"):
        with pytest.raises(TargetNotAllowedError, match="nothing was imported"):
            check_target(path, "agent.model._target_")
    assert not marker.exists()


def test_a_listed_prefix_admits_only_what_it_defines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "mine"
    package.mkdir()
    (package / "__init__.py").write_text("import os\nclass Agent:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert check_target("mine.Agent", "x", ["mine"]) == "mine.Agent"
    with pytest.raises(TargetNotAllowedError, match="attribute chain"):
        check_target("mine.os.system", "x", ["mine"])
    with pytest.raises(TargetNotAllowedError, match="a module, not a class"):
        check_target("mine.os", "x", ["mine"])
