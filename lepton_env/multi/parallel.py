"""The PettingZoo face: :class:`LeptonParallelEnv`, every firm of a scenario as an agent.

``lepton_env.multi.parallel_env(scenario="race")`` gives the ``ParallelEnv``;
``env(...)`` its AEC version (``pettingzoo.utils.parallel_to_aec``, with
PettingZoo's order enforcing) and ``raw_env(...)`` the AEC version without it,
as PettingZoo's own environment modules provide them.

It is a batch of one env of the one core (:class:`~lepton_env.envs.vector.BatchedExpansion`),
the firm rows of which are the agents: with one firm its agent's trajectory is
exactly the single-agent :class:`~lepton_env.envs.expansion.LeptonExpansionEnv`'s on
the same seed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from numpy.typing import NDArray
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec, parallel_to_aec_wrapper

from lepton_env import rng
from lepton_env.envs.actions import ActionError
from lepton_env.envs.expansion import InvalidAction, step_info
from lepton_env.envs.vector import BatchedExpansion
from lepton_env.mechanisms.competitors import Persona
from lepton_env.multi.firms import agent_ids, firm_observation_space
from lepton_env.params import Params
from lepton_env.reward import RewardFunction
from lepton_env.scenarios import ScenarioGenerator

#: What becomes of a bankrupt firm's agent: it leaves ``agents`` | it stays, inert, to the end.
BANKRUPT_FIRMS = ("leave", "stay")
#: The action faces with a PettingZoo sampling mask (``action_space(agent).sample(mask)``).
MASKED_ACTION_MODES = ("multi_discrete", "discrete")


def multi_firm_batch(
    num_envs: int,
    scenario: str | ScenarioGenerator | Params,
    *,
    action_mode: str,
    render_mode: str | None,
    render_modes: Sequence[str],
    **options: Any,
) -> BatchedExpansion:
    """The batch of the one core that both multi-agent faces step, every firm a row of it,
    after checking the options only they restrict: a masked action face and a render mode
    of ``render_modes``. ``options`` go to :class:`BatchedExpansion` (invalid-action
    handling, injected parts, scenario parameters)."""
    if action_mode not in MASKED_ACTION_MODES:
        raise ValueError(
            f"action_mode = {action_mode!r}: the multi-agent faces allow "
            f"{list(MASKED_ACTION_MODES)}"
        )
    if render_mode is not None and render_mode not in render_modes:
        raise ValueError(f"render_mode = {render_mode!r}: allowed {list(render_modes)}")
    return BatchedExpansion(
        num_envs,
        scenario,
        action_mode=action_mode,  # type: ignore[arg-type]
        multi_firm=True,
        **options,
    )


def sample_masks(
    masks: NDArray[np.bool_], space: spaces.MultiDiscrete | spaces.Discrete
) -> tuple[NDArray[np.int8], ...] | NDArray[np.int8]:
    """A flat valid-action mask (as ``action_masks()`` gives it) in the form the space's
    ``sample(mask=...)`` takes: int8, split per component for a ``MultiDiscrete``."""
    flat = masks.astype(np.int8)
    if isinstance(space, spaces.MultiDiscrete):
        return tuple(np.split(flat, np.cumsum(space.nvec)[:-1]))
    return flat


class LeptonParallelEnv(ParallelEnv[str, NDArray[np.float32], NDArray[np.int64]]):
    """The firms of a scenario expanding abroad at once, one quarter per step.

    ## Description
    Every firm of the scenario (``params.firm_names``: its own firm, then its
    rivals) is an agent that decides each quarter what the single-agent env's
    firm decides (see :class:`~lepton_env.envs.expansion.LeptonExpansionEnv`);
    the firms share the markets, the incumbents and the regulators of one
    world, and compete for customers in one attraction model.

    ## Agents
    ``possible_agents``: the firm names as identifiers (``"Lepton AI"`` ->
    ``"lepton_ai"``), in firm order. A firm whose cash falls below minus the
    credit line is bankrupt: its last step reports ``terminations[agent] =
    True`` and it leaves ``agents`` while the others play on. The horizon ends
    the game (the terminal value is paid there): every firm still in gets
    ``terminations[agent] = True``; ``truncations`` stay False. The episode is
    over when ``agents`` is empty.

    With ``bankrupt_firms="stay"`` a bankrupt firm stays in ``agents`` as an
    inert agent until the episode ends (its frozen state observed, reward 0
    after the quarter of its bankruptcy, only HOLD valid, ``infos[agent]
    ["bankrupt"]`` True), then ends with ``terminations[agent] = True`` beside
    the others: every agent is present from reset to the end, as SuperSuit's
    ``pettingzoo_env_to_vec_env_v1`` requires.

    ## Action Space
    Per agent, the single-agent face's: ``MultiDiscrete([10] * R + [L])``
    (or ``Discrete(10 R + L)`` with ``action_mode="discrete"``). A masked move
    is a no-op counted in ``infos[agent]["invalid_moves"]`` (or raises with
    ``invalid_action="raise"``).

    ## Observation Space
    Per agent a flat ``Box``: the single-agent observation of the firm itself
    (its private state), then each rival's public state per region (presence,
    mode rank / 4, share; never its cash, beliefs or partner estimates), then
    the firm-identity one-hot (F > 1). Action masks follow PettingZoo's
    convention for non-Dict observations: ``infos[agent]["action_mask"]`` is
    what ``action_space(agent).sample(mask=...)`` takes (per component int8 for
    ``MultiDiscrete``); :meth:`action_masks` gives the flat bool masks
    (MaskablePPO's form). ``state()`` is every firm's observation, concatenated
    in firm order (for centralized critics).

    ## Rewards
    Each firm's reward is the single-agent reward of its own quarter.

    ## Rendering
    ``render_mode="ansi"`` or ``"rgb_array"``: the scenario's own firm's (firm 0's)
    table or chart of the env, as the single-agent env renders it.

    ## Arguments
    ``parallel_env(scenario="race", action_mode="multi_discrete",
    invalid_action="noop", reward_function=None, personas=None,
    render_mode=None, bankrupt_firms="leave", **params)``, as the single-agent
    env; ``bankrupt_firms``: ``"leave"`` (PettingZoo's agent death) or ``"stay"``.

    >>> from lepton_env.multi import parallel_env
    >>> env = parallel_env(scenario="toy")
    >>> observations, infos = env.reset(seed=0)
    >>> actions = {agent: env.action_space(agent).sample() for agent in env.agents}
    >>> observations, rewards, terminations, truncations, infos = env.step(actions)

    ## Version History
    * v0: initial release.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 (PettingZoo API)
        "name": "lepton_expansion_v0",
        "render_modes": ["ansi", "rgb_array"],
        "render_fps": 4,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        scenario: str | ScenarioGenerator | Params = "race",
        *,
        action_mode: str = "multi_discrete",
        invalid_action: InvalidAction = "noop",
        reward_function: RewardFunction | None = None,
        personas: tuple[Persona, ...] | None = None,
        render_mode: str | None = None,
        bankrupt_firms: str = "leave",
        **params: Any,
    ) -> None:
        if bankrupt_firms not in BANKRUPT_FIRMS:
            raise ValueError(f"bankrupt_firms = {bankrupt_firms!r}: allowed {list(BANKRUPT_FIRMS)}")
        self.bankrupt_firms = bankrupt_firms
        self.batch = multi_firm_batch(
            1,
            scenario,
            action_mode=action_mode,
            render_mode=render_mode,
            render_modes=self.metadata["render_modes"],
            invalid_action=invalid_action,
            reward_function=reward_function,
            personas=personas,
            **params,
        )
        self.params = self.batch.params
        self.model = self.batch.model
        self.render_mode = render_mode
        self.possible_agents: list[str] = list(agent_ids(self.params))
        self.agents: list[str] = []
        self._firm = {agent: firm for firm, agent in enumerate(self.possible_agents)}
        # one space object per agent: PettingZoo seeds each agent's space on its own
        observation_box = firm_observation_space(self.params)
        single_action = self.batch.single_action_space
        self.observation_spaces = {a: copy.deepcopy(observation_box) for a in self.possible_agents}
        self.action_spaces = {a: copy.deepcopy(single_action) for a in self.possible_agents}
        num_firms = len(self.possible_agents)
        self.state_space = spaces.Box(
            np.tile(observation_box.low, num_firms),
            np.tile(observation_box.high, num_firms),
            dtype=np.float32,
        )
        self._np_random: np.random.Generator | None = None
        self._step_shape = (num_firms, *single_action.shape)

    # ---------------------------------------------------------------- spaces
    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[self._known(agent)]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return self.action_spaces[self._known(agent)]

    # ---------------------------------------------------------------- API
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, NDArray[np.float32]], dict[str, dict[str, Any]]]:
        """Start an episode: ``seed`` as the single env's ``reset(seed=...)``; without a seed
        the next episode of the env's chain (the first one drawn from its ``np_random``)."""
        if seed is not None:
            seed = rng.check_seed(seed)
            self._np_random, _ = seeding.np_random(seed)
        elif self._np_random is None:
            self._np_random, _ = seeding.np_random()
        rows = np.zeros(1, dtype=np.intp)
        keys = self.batch.episode_keys(rows, [seed], self._np_random)
        self.batch.reset_rows(rows, keys)
        self.agents = list(self.possible_agents)
        observation = self._observation()
        masks = self.batch.action_masks()
        observations = {a: observation[f] for a, f in self._firm.items()}
        infos = {a: {"action_mask": self._sample_mask(a, masks[f])} for a, f in self._firm.items()}
        return observations, infos

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, NDArray[np.float32]],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """One quarter: every agent in ``agents`` acts (and only they)."""
        batch_actions = self._checked(actions)
        output, face_invalid = self.batch.step(batch_actions)
        observation = self._observation()
        masks = self.batch.action_masks()
        observations, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        for agent in self.agents:
            firm = self._firm[agent]
            observations[agent] = observation[firm]
            rewards[agent] = float(output.reward[firm])
            terminations[agent] = bool(output.terminated[firm])
            truncations[agent] = bool(output.truncated[firm])
            info = step_info(output, firm, int(face_invalid[firm]))
            info["action_mask"] = self._sample_mask(agent, masks[firm])
            infos[agent] = info
        if self.bankrupt_firms == "stay":
            # inert until the episode is over (every firm out or the horizon): then all end
            over = bool((output.terminated | output.truncated).all())
            for agent in self.agents:
                infos[agent]["bankrupt"] = terminations[agent]
                terminations[agent] = over and terminations[agent]
                truncations[agent] = over and truncations[agent]
        self.agents = [a for a in self.agents if not (terminations[a] or truncations[a])]
        return observations, rewards, terminations, truncations, infos

    def state(self) -> NDArray[np.float32]:
        """Every firm's observation, concatenated in firm order (firms that left included),
        (F * D,): the global view for centralized critics."""
        if self.batch.state is None:
            raise RuntimeError("call reset() before state()")
        return self._observation().reshape(-1).copy()

    def action_masks(self) -> dict[str, NDArray[np.bool_]]:
        """The valid actions of each agent in ``agents``, flat bool (MaskablePPO's form)."""
        if self.batch.state is None:
            raise RuntimeError("call reset() before action_masks()")
        masks = self.batch.action_masks()
        return {agent: masks[self._firm[agent]] for agent in self.agents}

    def render(self) -> Any:
        return self.batch.render_env(0, self.render_mode)

    def close(self) -> None:
        """Nothing to release: the env lives in this process."""

    # ---------------------------------------------------------------- helpers
    def _observation(self) -> NDArray[np.float32]:
        """The firm rows' flat observations, (F, D) (the batch's own array)."""
        observation = self.batch.observe_all()
        assert isinstance(observation, np.ndarray)  # the batch is built flat
        return observation

    def _known(self, agent: str) -> str:
        if agent not in self._firm:
            raise ValueError(
                f"agent {agent!r} is not in this game: agents are {self.possible_agents}"
            )
        return agent

    def _sample_mask(self, agent: str, mask: NDArray[np.bool_]) -> Any:
        return sample_masks(mask, self.action_spaces[agent])

    def _checked(self, actions: Mapping[str, Any]) -> NDArray[np.int64]:
        """The agents' actions as the core's firm rows; firms that left hold (all zeros)."""
        if self.batch.state is None:
            raise RuntimeError("call reset() before step()")
        if not isinstance(actions, Mapping):
            raise ValueError(
                f"actions = {actions!r}: expected a dict from each agent in play "
                f"{self.agents} to its action"
            )
        if not self.agents:
            raise ValueError("the episode is over (no agent is in play): call reset()")
        unknown = [a for a in actions if a not in self._firm]
        if unknown:
            raise ValueError(
                f"actions for unknown agents {unknown}: this game's agents are "
                f"{self.possible_agents}"
            )
        left = [a for a in actions if a not in self.agents]
        if left:
            raise ValueError(
                f"actions for agents {left} that have left the game (bankrupt or the episode "
                f"ended); agents in play: {self.agents}"
            )
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(
                f"no action for agents {missing}: every agent in play {self.agents} must act"
            )
        batch_actions = np.zeros(self._step_shape, dtype=np.int64)
        for agent, action in actions.items():
            try:
                checked = self.batch.actions.check(np.asarray(action)[None, ...])
            except ActionError as error:
                space = self.action_spaces[agent]
                raise ActionError(
                    f"actions[{agent!r}]: {error} (its action space is {space}, "
                    f"shape {space.shape})"
                ) from None
            batch_actions[self._firm[agent]] = checked[0]
        return batch_actions


def parallel_env(
    scenario: str | ScenarioGenerator | Params = "race", **kwargs: Any
) -> LeptonParallelEnv:
    """The ``ParallelEnv`` of ``scenario``; keywords as :class:`LeptonParallelEnv`."""
    return LeptonParallelEnv(scenario, **kwargs)


def raw_env(
    scenario: str | ScenarioGenerator | Params = "race", **kwargs: Any
) -> AECEnv[str, Any, Any]:
    """The AEC version (agents act in turn within a quarter), without order enforcing."""
    return parallel_to_aec_wrapper(parallel_env(scenario, **kwargs))


def env(
    scenario: str | ScenarioGenerator | Params = "race", **kwargs: Any
) -> AECEnv[str, Any, Any]:
    """The AEC version as PettingZoo's ``env()`` gives it (``parallel_to_aec``)."""
    return parallel_to_aec(parallel_env(scenario, **kwargs))
