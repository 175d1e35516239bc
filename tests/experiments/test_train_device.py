"""device=auto: the GPU when present, except where SB3 advises the CPU (small MLP, on-policy)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from lepton_env.agents.training.factory import resolve_device
from lepton_env.experiments.schema import validate

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize(
    ("overrides", "cuda", "expected"),
    [
        (["agent=ppo"], False, "cpu"),
        (["agent=sac"], False, "cpu"),
        (["agent=ppo"], True, "cpu"),
        (["agent=recurrent_ppo"], True, "cpu"),
        (["agent=ppo", "gpu_for_small_mlp=true"], True, "cuda"),
        (["agent=sac"], True, "cuda"),
        (["agent=dqn"], True, "cuda"),
        (["agent=sac", "device=cpu"], True, "cpu"),
        (["agent=ppo", "device=cuda:1"], True, "cuda:1"),
    ],
)
def test_auto_device(
    overrides: list[str], cuda: bool, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        config = validate(compose("train", overrides=["device=auto", *overrides]))
    assert resolve_device(config) == expected
