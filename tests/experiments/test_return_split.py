"""The return split: a policy's return is its cumulative profit plus its terminal valuation."""

from __future__ import annotations

import numpy as np
import pytest

from lepton_env.agents.baselines import HomeOnlyAgent
from lepton_env.experiments.return_split import episode_components, split_table
from lepton_env import make_params, make_vec_env, rng
from lepton_env.core import Action, Model


def test_components_sum_to_the_return_and_the_valuation_is_the_final_firm_value() -> None:
    venv = make_vec_env("LeptonExpansion-v0", 1, scenario="toy")
    parts = episode_components(HomeOnlyAgent(venv), "LeptonExpansion-v0", 2, 0, scenario="toy")
    venv.close()
    np.testing.assert_allclose(
        parts["profit"] + parts["valuation"] + parts["bankruptcy"], parts["return"]
    )
    # the home-only firm never moves: replay it on the core and read its last firm value
    params = make_params("toy")
    model = Model(params)
    state = model.reset(rng.episode_key(np.array([0, 1])))
    for _ in range(params.horizon):
        output = model.step(state, Action.hold(2, params.num_regions))
        state = output.state
    np.testing.assert_allclose(parts["valuation"], output.kpis["firm_value"] / params.reward_scale)
    assert parts["valuation"].min() > 0.0


def test_split_table_reports_every_baseline_and_the_oracle_on_toy() -> None:
    table = split_table("toy", episodes=2)
    assert list(table["policy"])[:2] == ["oracle", "home_only"]
    assert len(table) == 7
    assert table["return"].to_numpy() == pytest.approx(
        (table["profit"] + table["valuation"] + table["bankruptcy"]).to_numpy()
    )
    # the exact optimum can always pass, which is what the home-only firm does
    returns = table.set_index("policy")["return"]
    assert returns["oracle"] >= returns["home_only"] - 1e-9
