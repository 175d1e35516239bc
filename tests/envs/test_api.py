"""API conformance of the Gymnasium faces: checkers, spaces, info, bad actions, masks, render."""

from __future__ import annotations

import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import lepton_env
from lepton_env import ActionError, LeptonExpansionEnv, ParamsError
from lepton_env.envs.actions import ContinuousActions, DiscreteActions, MultiDiscreteActions
from lepton_env.observation import FIRM_FEATURES, REGION_FEATURES
from lepton_env.reward import MarketShareReward
from lepton_env.types import NUM_MOVES, Move

ENV_IDS = sorted(lepton_env.ENV_IDS)
SCENARIOS = ["toy", "toy_pilot", "global", "procedural"]
SB3_DICT_SHAPE_ADVICE = "has an unconventional shape"  # regions (R, F) is 2-D by design


def _make(env_id: str, scenario: str = "toy", **kwargs: object) -> LeptonExpansionEnv:
    env = gym.make(env_id, scenario=scenario, **kwargs).unwrapped
    assert isinstance(env, LeptonExpansionEnv)
    return env


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_and_sb3_checkers_pass_without_warnings(env_id: str, scenario: str) -> None:
    env = _make(env_id, scenario, render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gymnasium_check_env(env, skip_render_check=False)
        sb3_check_env(_make(env_id, scenario), warn=True)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_checkers_pass_with_integer_sizes_given_as_floats(env_id: str) -> None:
    """YAML configs may write ``rnd_levels: 3.0``; spaces still get integer sizes."""
    env = _make(env_id, "toy", rnd_levels=3.0, horizon=8.0, greenfield_build_quarters=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gymnasium_check_env(env)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_checkers_pass_with_dict_observations(env_id: str) -> None:
    env = _make(env_id, "procedural", observation_mode="dict")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gymnasium_check_env(env)
        sb3_check_env(_make(env_id, "procedural", observation_mode="dict"), warn=True)
    unexpected = [str(w.message) for w in caught if SB3_DICT_SHAPE_ADVICE not in str(w.message)]
    assert unexpected == []


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_action_spaces_follow_the_number_of_regions(scenario: str) -> None:
    params = lepton_env.make_params(scenario)
    regions, levels = params.num_regions, params.rnd_levels
    multi = _make("LeptonExpansion-v0", scenario).action_space
    assert isinstance(multi, spaces.MultiDiscrete)
    np.testing.assert_array_equal(multi.nvec, [NUM_MOVES] * regions + [levels])
    single = _make("LeptonExpansion-Single-v0", scenario).action_space
    assert isinstance(single, spaces.Discrete) and single.n == NUM_MOVES * regions + levels
    box = _make("LeptonExpansion-Continuous-v0", scenario).action_space
    assert isinstance(box, spaces.Box) and box.shape == (5 * regions + 1,)
    assert np.all(box.low == -1.0) and np.all(box.high == 1.0)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_observation_spaces_come_from_the_feature_table(scenario: str) -> None:
    env = _make("LeptonExpansion-v0", scenario)
    regions = env.params.num_regions
    assert env.observation_space.shape == (regions * len(REGION_FEATURES) + len(FIRM_FEATURES),)
    assert env.observation_space.dtype == np.float32
    observation, _ = env.reset(seed=0)
    assert observation.dtype == np.float32 and env.observation_space.contains(observation)


def test_dict_observation_exposes_regions_firm_and_the_mask() -> None:
    env = _make("LeptonExpansion-v0", "global", observation_mode="dict")
    observation, info = env.reset(seed=0)
    regions = env.params.num_regions
    assert set(observation) == {"regions", "firm", "action_mask"}
    assert observation["regions"].shape == (regions, len(REGION_FEATURES))
    assert observation["firm"].shape == (len(FIRM_FEATURES),)
    np.testing.assert_array_equal(observation["action_mask"], env.action_masks())
    np.testing.assert_array_equal(info["action_mask"], env.action_masks())
    # the flat observation is the same features, regions row-major then the firm
    flat = _make("LeptonExpansion-v0", "global").reset(seed=0)[0]
    np.testing.assert_array_equal(
        flat, np.concatenate([observation["regions"].ravel(), observation["firm"]])
    )
    observation, *_ = env.step(env.action_space.sample(mask=_split_mask(env)))
    assert env.observation_space.contains(observation)
    np.testing.assert_array_equal(observation["action_mask"], env.action_masks())


def _split_mask(env: LeptonExpansionEnv) -> tuple[np.ndarray, ...]:
    mask = env.action_masks().astype(np.int8)
    return tuple(np.split(mask, np.cumsum(env.action_space.nvec)[:-1]))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_info_carries_kpis_and_reward_components(env_id: str) -> None:
    env = _make(env_id, "global")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.action_space.sample())
    regions = env.params.num_regions
    for key in ("revenue", "profit", "cash", "entries", "fines", "invalid_moves", "exits"):
        assert np.isscalar(info[key]), key
    assert info["market_share"].shape == (regions,)
    assert info["entry_mode"].shape == (regions,)
    assert info["cash"] == pytest.approx(float(env.state.cash[0]))
    assert set(info["reward_components"]) == {"profit", "valuation", "bankruptcy"}
    assert reward == pytest.approx(sum(info["reward_components"].values()))


def test_reward_function_is_injected_through_make() -> None:
    env = _make("LeptonExpansion-v0", "toy", reward_function=MarketShareReward())
    env.reset(seed=0)
    _, reward, *_, info = env.step(env.action_space.sample())
    assert set(info["reward_components"]) == {"market_share", "bankruptcy"}
    # at present value, as every reward: times the first quarter's discount factor
    served = info["gross_revenue"] / info["total_potential"]
    assert reward == pytest.approx(info["discount"] * served)


# toy: 3 regions, 2 R&D levels -> MultiDiscrete([10, 10, 10, 2]), Discrete(32), Box((16,))
MALFORMED = [
    ("LeptonExpansion-v0", np.array([0, 0, 0]), r"action has shape \(3,\), expected \(4,\)"),
    ("LeptonExpansion-v0", np.zeros((1, 4), int), r"action has shape \(1, 4\), expected \(4,\)"),
    ("LeptonExpansion-v0", 3, r"action has shape \(\), expected \(4,\)"),
    ("LeptonExpansion-v0", np.zeros(4), r"action has dtype float64, expected an integer dtype"),
    ("LeptonExpansion-v0", np.array([True] * 4), r"action has dtype bool, expected an integer"),
    ("LeptonExpansion-v0", np.array([0, np.nan, 0, 0]), r"action contains NaN or inf"),
    (
        "LeptonExpansion-v0",
        np.array([0, 0, 10, 0]),
        r"action\[2\] = 10 is out of range: allowed \[0, 9\]",
    ),
    (
        "LeptonExpansion-v0",
        np.array([0, 0, 0, 2]),
        r"action\[3\] = 2 is out of range: allowed \[0, 1\]",
    ),
    ("LeptonExpansion-v0", np.array([-1, 0, 0, 0]), r"action\[0\] = -1 is out of range"),
    ("LeptonExpansion-Single-v0", np.array([0, 1]), r"action has shape \(2,\), expected \(\)"),
    ("LeptonExpansion-Single-v0", 0.5, r"action has dtype float64, expected an integer dtype"),
    ("LeptonExpansion-Single-v0", np.nan, r"action contains NaN or inf"),
    ("LeptonExpansion-Single-v0", "7", r"action has dtype <U1, expected an integer dtype"),
    ("LeptonExpansion-Single-v0", 32, r"action = 32 is out of range: allowed \[0, 31\]"),
    ("LeptonExpansion-Single-v0", -1, r"action = -1 is out of range: allowed \[0, 31\]"),
    ("LeptonExpansion-Continuous-v0", np.zeros(15, np.float32), r"shape \(15,\), expected \(16,\)"),
    ("LeptonExpansion-Continuous-v0", np.zeros((2, 16), np.float32), r"shape \(2, 16\), expected"),
    ("LeptonExpansion-Continuous-v0", np.zeros(16, int), r"dtype int64, expected a float dtype"),
    ("LeptonExpansion-Continuous-v0", np.full(16, np.nan, np.float32), r"contains NaN or inf"),
    ("LeptonExpansion-Continuous-v0", np.full(16, np.inf, np.float32), r"contains NaN or inf"),
    (
        "LeptonExpansion-Continuous-v0",
        np.full(16, 1.5, np.float32),
        r"out of range: each entry in \[-1, 1\]",
    ),
]


@pytest.mark.parametrize(("env_id", "action", "message"), MALFORMED)
def test_malformed_actions_raise_an_error_naming_the_problem(
    env_id: str, action: object, message: str
) -> None:
    env = _make(env_id)
    env.reset(seed=0)
    before = env.state
    with pytest.raises(ActionError, match=message):
        env.step(action)
    assert env.state is before  # nothing happened


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_step_and_masks_before_reset_raise(env_id: str) -> None:
    env = _make(env_id)
    with pytest.raises(RuntimeError, match=re.escape("call reset() before step()")):
        env.step(env.action_space.sample())
    with pytest.raises(RuntimeError, match=re.escape("call reset() before action_masks()")):
        env.action_masks()


def _continuous(near_entry: float = 0.0) -> np.ndarray:
    """Toy continuous action: entry intent in near, hold elsewhere, no spends, R&D off."""
    per_region = np.tile(np.array([0.0, -1.0, -1.0, -1.0, -1.0], dtype=np.float32), (3, 1))
    per_region[1, 0] = near_entry
    return np.concatenate([per_region.ravel(), np.array([-1.0], dtype=np.float32)])


# toy at reset: home (0) is held, near (1) and far (2) are open; exiting near is invalid
INVALID = {
    "LeptonExpansion-v0": np.array([0, Move.EXIT, 0, 0]),
    "LeptonExpansion-Single-v0": np.int64(1 * NUM_MOVES + Move.EXIT),
    "LeptonExpansion-Continuous-v0": _continuous(near_entry=-1.0),  # below -0.5 exits
}
HOLD = {
    "LeptonExpansion-v0": np.zeros(4, np.int64),
    "LeptonExpansion-Single-v0": np.int64(0),
    "LeptonExpansion-Continuous-v0": _continuous(),
}
PILOT_NEAR = {
    "LeptonExpansion-v0": np.array([0, Move.ENTER_PILOT, 0, 0]),
    "LeptonExpansion-Single-v0": np.int64(1 * NUM_MOVES + Move.ENTER_PILOT),
    "LeptonExpansion-Continuous-v0": _continuous(near_entry=0.3),  # (0.2, 0.4] pilots
}


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_invalid_move_is_a_counted_no_op(env_id: str) -> None:
    env, hold = _make(env_id), _make(env_id)
    env.reset(seed=0)
    hold.reset(seed=0)
    assert not env.action_masks()[1 * NUM_MOVES + Move.EXIT]
    _, reward, _, _, info = env.step(INVALID[env_id])
    _, hold_reward, _, _, hold_info = hold.step(HOLD[env_id])
    assert info["invalid_moves"] == 1 and hold_info["invalid_moves"] == 0
    assert reward == hold_reward
    np.testing.assert_array_equal(env.state.entry_mode, hold.state.entry_mode)
    np.testing.assert_array_equal(env.state.cash, hold.state.cash)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_invalid_action_raise_mode(env_id: str) -> None:
    env = _make(env_id, invalid_action="raise")
    env.reset(seed=0)
    with pytest.raises(ActionError, match="invalid"):
        env.step(INVALID[env_id])
    assert env.state.quarter[0] == 0  # nothing happened
    _, _, _, _, info = env.step(PILOT_NEAR[env_id])
    assert info["invalid_moves"] == 0 and env.state.entry_mode[0, 1] == 1


def test_masked_actions_never_count_as_invalid_in_the_single_face() -> None:
    env = _make("LeptonExpansion-Single-v0", "global")
    env.reset(seed=3)
    draw = np.random.default_rng(3)
    for _ in range(40):
        action = np.int64(draw.choice(np.flatnonzero(env.action_masks())))
        _, _, terminated, truncated, info = env.step(action)
        assert info["invalid_moves"] == 0
        if terminated or truncated:
            break


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action_mode": "hybrid"}, r"action_mode = 'hybrid': allowed \['continuous'"),
        ({"observation_mode": "image"}, r"observation_mode = 'image': allowed 'flat' or 'dict'"),
        ({"invalid_action": "ignore"}, r"invalid_action = 'ignore': allowed 'noop' or 'raise'"),
        ({"render_mode": "human"}, r"render_mode = 'human': allowed \['ansi', 'rgb_array'\]"),
    ],
)
def test_bad_constructor_arguments_are_rejected(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LeptonExpansionEnv("toy", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"reward_function": "profit"}, TypeError, r"reward_function must be callable"),
        ({"personas": ("passive",)}, TypeError, r"personas must have a react\(rivals, params\)"),
        ({"personas": ()}, ValueError, r"competitor_persona uses index 3 but only 0 personas"),
        (
            {"scenario": 5},
            ParamsError,
            r"scenario must be one of \['duel_market', 'duel_toy', 'global', 'procedural', "
            r"'race', 'toy', 'toy_pilot'\]",
        ),
    ],
)
def test_bad_injected_parts_are_rejected_at_construction(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        LeptonExpansionEnv(**{"scenario": "toy", **kwargs})


def test_bad_scenario_parameters_are_rejected_by_make() -> None:
    with pytest.raises(ParamsError, match=r"horizon = 0\.0 is out of range: allowed \[1, 400\]"):
        gym.make("LeptonExpansion-v0", scenario="toy", horizon=0)
    with pytest.raises(ParamsError, match=r"unknown parameter 'horizn' \(did you mean 'horizon'"):
        gym.make("LeptonExpansion-v0", scenario="toy", horizn=5)
    with pytest.raises(ParamsError, match=r"procedural difficulty = 2 is out of range"):
        gym.make("LeptonExpansion-v0", scenario="procedural", difficulty=2)


def test_render_ansi_is_a_table_of_every_region() -> None:
    env = _make("LeptonExpansion-v0", "global", render_mode="ansi")
    env.reset(seed=0)
    env.step(env.action_space.sample())
    text = env.render()
    assert isinstance(text, str)
    assert text.startswith("Quarter 1/40")
    for name in env.params.region_names:
        assert name in text
    assert len(text.strip().splitlines()) == 2 + env.params.num_regions  # header, columns, rows


def test_render_rgb_array_is_a_nonblank_image() -> None:
    env = _make("LeptonExpansion-v0", "global", render_mode="rgb_array")
    env.reset(seed=0)
    for _ in range(3):
        env.step(env.action_space.sample(mask=_split_mask(env)))
    image = env.render()
    assert isinstance(image, np.ndarray)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[0] >= 100 and image.shape[1] >= 100
    # mostly white background with drawn bars, lines and text in several colours
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) > 20
    assert (image < 128).any() and (image > 250).mean() > 0.3


def test_render_without_mode_returns_none() -> None:
    env = _make("LeptonExpansion-v0")
    env.reset(seed=0)
    assert env.render() is None


def test_action_faces_decode_to_core_moves() -> None:
    params = lepton_env.make_params("toy")  # 3 regions, 2 R&D levels
    multi = MultiDiscreteActions(params).decode(np.array([[0, Move.EXIT, Move.LOCALIZE, 1]]))
    np.testing.assert_array_equal(multi.moves, [[0, Move.EXIT, Move.LOCALIZE]])
    assert multi.rnd[0] == 1.0  # level 1 of 0..1
    single = DiscreteActions(params).decode(np.array([2 * NUM_MOVES + Move.COMPLY, 3 * NUM_MOVES]))
    np.testing.assert_array_equal(single.moves, [[0, 0, Move.COMPLY], [0, 0, 0]])
    # a move keeps R&D (NaN); an R&D action sets level 0
    assert np.isnan(single.rnd[0]) and single.rnd[1] == 0.0
    # entry intent bins: <= -0.5 exit, (0.2, 0.4] pilot, (0.4, 0.6] partner, (0.6, 0.8] acquire,
    # above 0.8 greenfield, else hold; diligence when its intent is positive
    entries = np.array([-0.6, 0.3, 0.5, 0.7, 0.9, 0.0, 0.2, 0.0], dtype=np.float32)
    diligence = np.array([-1, -1, -1, -1, -1, 0.5, -1, -1], dtype=np.float32)
    spends = np.array([[0.0, -1.0, 1.0]] * 8, dtype=np.float32)
    rows = np.concatenate([entries[:, None], spends, diligence[:, None]], axis=1)
    batch = np.concatenate([np.tile(rows, (1, 3)), np.zeros((8, 1), np.float32)], axis=1)
    continuous = ContinuousActions(params).decode(batch)
    expected = [Move.EXIT, 1, 2, 3, 4, Move.DILIGENCE, Move.HOLD, Move.HOLD]
    np.testing.assert_array_equal(continuous.moves[:, 0], expected)
    # intensities (x + 1) / 2: marketing 0.5, localization 0, compliance 1; R&D 0.5
    np.testing.assert_allclose(continuous.marketing[0], 0.5)
    np.testing.assert_allclose(continuous.localization[0], 0.0)
    np.testing.assert_allclose(continuous.compliance[0], 1.0)
    np.testing.assert_allclose(continuous.rnd, 0.5)


def test_render_legend_stays_clear_of_the_bars() -> None:
    """The modes' legend sits above both panels: it covers no bar, however tall."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from lepton_env.render import render_figure

    env = _make("LeptonExpansion-v0", "global", render_mode="rgb_array")
    env.reset(seed=0)
    state = env.state
    state.firm_share[0, :] = 0.9  # every bar as tall as the axes allow
    figure = render_figure(state, env.params, [0.0, 1.0])
    renderer = FigureCanvasAgg(figure).get_renderer()
    (legend,) = figure.legends
    legend_box = legend.get_window_extent(renderer)
    for axes in figure.axes:
        assert not legend_box.overlaps(axes.get_window_extent(renderer)), axes.get_title()
