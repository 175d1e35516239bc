"""Episode play: an agent on held-out seeds, one episode per seed (sampled actions keyed by it).

:func:`evaluate_policy_episodes` plays anything with the agent protocol's
``predict`` (:class:`lepton_env.agents.players.protocol.Agent`) and returns one row per episode:
the return, its reward components summed over the episode (cumulative profit
and terminal value apart), the business KPIs and, through a callback, every
change of entry mode (the strategy report's timeline). :func:`run_scores`
plays every run of a :class:`~lepton_env.agents.comparison.contenders.Contender`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lepton_env.types import EntryMode

if TYPE_CHECKING:
    from lepton_env.agents.comparison.contenders import Contender

#: Episode KPIs under the names the training runs log (agents/training/callbacks.py): sums of
#: revenue, profit, fines and invalid moves; cash and regions present at the end.
TRAINING_KPI_COLUMNS = ("revenue", "profit", "fines", "invalid_moves", "cash", "regions_present")
#: Business KPIs reported beside the return, one value per episode.
KPI_COLUMNS = (
    "final_revenue",
    "final_market_share",
    "regions_entered",
    "fines",
    "bankrupt",
    "invalid_moves",
)
#: The episode seed ranges, disjoint: training (the learners' envs, the searches'
#: candidates) below ``VALIDATION_FIRST_SEED``; validation (checkpoint selection of
#: learners, candidate selection of searches: ``lepton-train``'s ``eval.first_seed``)
#: from it; test (reported figures only: ``lepton-compare``'s ``eval.first_seed``) from
#: ``TEST_FIRST_SEED``, at least ``TEST_EPISODES`` episodes.
VALIDATION_FIRST_SEED = 1_000_000
TEST_FIRST_SEED = 2_000_000
TEST_EPISODES = 200
#: Prefix of the columns holding each reward component summed over the episode
#: (``return_profit``, ``return_valuation``, ``return_bankruptcy`` under the default
#: reward): they add up to ``return``.
COMPONENT_PREFIX = "return_"


@dataclass(frozen=True)
class EntryEvent:
    """One change of entry mode in a region during an episode."""

    seed: int
    quarter: int  # the quarter the move was made in, 0-based
    region: str
    previous_mode: str
    mode: str


def accepts_action_masks(agent: Any) -> bool:
    """Whether ``agent.predict`` takes ``action_masks=`` (MaskablePPO and the baselines do)."""
    try:
        parameters = inspect.signature(agent.predict).parameters
    except (TypeError, ValueError):
        return False
    return "action_masks" in parameters


def evaluate_policy_episodes(
    agent: Any,
    env_id: str,
    env_kwargs: Mapping[str, Any],
    seeds: Sequence[int],
    deterministic: bool = True,
    use_masks: bool | None = None,
    on_timeline: Callable[[EntryEvent], None] | None = None,
    on_episode: Callable[[], None] | None = None,
) -> pd.DataFrame:
    """Play one episode per seed; one row per episode with ``return``, ``length`` and KPIs.

    ``use_masks=None`` passes the env's ``action_masks()`` to the agent when its
    ``predict`` accepts them. ``on_timeline`` receives every change of entry mode,
    ``on_episode`` is called after each episode (progress display).
    The episode's columns: ``return``; ``return_<component>`` for each entry of
    ``info["reward_components"]``, summed over the episode (they add up to the
    return: under the default reward ``return_profit`` is the cumulative profit,
    ``return_valuation`` the terminal value, ``return_bankruptcy`` the penalty);
    ``final_revenue`` (net revenue of the last quarter, $M), ``final_market_share``
    (gross revenue over total market potential in the last quarter),
    ``regions_entered`` (foreign regions the firm was ever present in), ``fines``
    ($M, summed), ``bankrupt`` (0/1), ``invalid_moves`` (summed), and under the
    training runs' names ``revenue`` and ``profit`` (summed, $M), ``cash`` and
    ``regions_present`` (at the end).
    """
    if len(seeds) == 0:
        raise ValueError("seeds is empty: evaluate needs at least one episode seed")
    masked = accepts_action_masks(agent) if use_masks is None else use_masks
    env = gym.make(env_id, **dict(env_kwargs))
    core = env.unwrapped
    params = core.params  # type: ignore[attr-defined]
    names = params.region_names
    foreign = np.arange(params.num_regions) != params.home_region
    rows = []
    for seed in seeds:
        observation, _ = env.reset(seed=int(seed))
        if not deterministic:
            import torch

            # Sampled actions keyed by the episode: the same draws whatever else is played.
            torch.manual_seed(int(seed))
        recurrent_state = None
        episode_start = np.ones((1,), dtype=bool)
        total, length, fines, invalid = 0.0, 0, 0.0, 0
        revenue_sum, profit_sum = 0.0, 0.0
        components: dict[str, float] = {}
        modes = core.state.entry_mode[0].copy()  # type: ignore[attr-defined]
        ever_present = (modes > 0) & foreign
        info: dict[str, Any] = {}
        done = False
        while not done:
            action, recurrent_state = policy_step(
                agent, core, observation, recurrent_state, episode_start, deterministic, masked
            )
            episode_start = np.zeros((1,), dtype=bool)
            observation, reward, terminated, truncated, info = env.step(action)
            new_modes = np.asarray(info["entry_mode"])
            if on_timeline is not None:
                for region in np.flatnonzero(new_modes != modes):
                    on_timeline(
                        EntryEvent(
                            seed=int(seed),
                            quarter=length,
                            region=names[region],
                            previous_mode=EntryMode(int(modes[region])).name.lower(),
                            mode=EntryMode(int(new_modes[region])).name.lower(),
                        )
                    )
            modes = new_modes
            ever_present |= (modes > 0) & foreign
            total += float(reward)
            length += 1
            fines += float(info["fines"])
            invalid += int(info["invalid_moves"])
            revenue_sum += float(info["revenue"])
            profit_sum += float(info["profit"])
            for name, value in info.get("reward_components", {}).items():
                components[name] = components.get(name, 0.0) + float(value)
            done = bool(terminated or truncated)
        rows.append(
            {
                "seed": int(seed),
                "return": total,
                **{f"{COMPONENT_PREFIX}{name}": value for name, value in components.items()},
                "length": length,
                "final_revenue": float(info["revenue"]),
                "final_market_share": float(info["gross_revenue"])
                / max(float(info["total_potential"]), 1e-12),
                "regions_entered": int(ever_present.sum()),
                "fines": fines,
                "bankrupt": int(bool(info["bankrupt"])),
                "invalid_moves": invalid,
                "revenue": revenue_sum,
                "profit": profit_sum,
                "cash": float(info["cash"]),
                "regions_present": int(info["regions_present"]),
            }
        )
        if on_episode is not None:
            on_episode()
    env.close()
    return pd.DataFrame(rows)


def _batched(observation: Any) -> Any:
    if isinstance(observation, dict):
        return {key: np.asarray(value)[None, ...] for key, value in observation.items()}
    return np.asarray(observation)[None, ...]


def policy_step(
    agent: Any,
    core: Any,
    observation: Any,
    recurrent_state: Any,
    episode_start: NDArray[np.bool_],
    deterministic: bool,
    masked: bool,
) -> tuple[Any, Any]:
    """One action of ``agent`` on a single env ``core`` (its unwrapped env) as a batch of one:
    ``(action for env.step, the agent's new recurrent state)``; masks passed when ``masked``."""
    kwargs = {"action_masks": core.action_masks()[None, :]} if masked else {}
    action, recurrent_state = agent.predict(
        _batched(observation),
        state=recurrent_state,
        episode_start=episode_start,
        deterministic=deterministic,
        **kwargs,
    )
    return np.asarray(action)[0], recurrent_state


def component_columns(table: pd.DataFrame) -> list[str]:
    """The ``return_<component>`` columns of an episode table, in their order."""
    return [column for column in table.columns if column.startswith(COMPONENT_PREFIX)]


def run_scores(
    contender: Contender,
    seeds: Sequence[int],
    deterministic: bool = True,
    on_episode: Callable[[], None] | None = None,
) -> tuple[NDArray[np.float64], pd.DataFrame, list[EntryEvent]]:
    """The contender's episode scores: a ``(runs, episodes)`` matrix of returns.

    Every run (training seed, search seed; one for a fixed heuristic) plays the
    same episode seeds, column ``e`` episode ``seeds[e]`` for every contender, so
    the statistics pair contenders by episode (:mod:`lepton_env.agents.comparison.stats`).
    Returns the scores, every episode's row (with ``agent`` and ``run``) and the
    entry timeline of the first run.
    """
    frames = []
    timeline: list[EntryEvent] = []
    for index, agent in enumerate(contender.runs):
        episodes = evaluate_policy_episodes(
            agent,
            contender.env_id,
            contender.env_kwargs,
            seeds,
            deterministic=deterministic,
            on_timeline=timeline.append if index == 0 else None,
            on_episode=on_episode,
        )
        episodes.insert(0, "run", index)
        episodes.insert(0, "agent", contender.name)
        frames.append(episodes)
    table = pd.concat(frames, ignore_index=True)
    scores = table["return"].to_numpy(dtype=np.float64).reshape(len(contender.runs), len(seeds))
    return scores, table, timeline
