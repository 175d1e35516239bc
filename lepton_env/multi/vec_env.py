"""The batched multi-agent SB3 face: :class:`LeptonMultiVecEnv`, rows of (env, learning firm).

For parameter sharing: one policy plays every learning firm of every env (the
observation carries the firm-identity one-hot), through any SB3 algorithm,
MaskablePPO included. The firms not under learning control are played inside
the face by agents of :mod:`lepton_env.agents` (:mod:`lepton_env.multi.scripted`),
one batched ``predict`` per scripted firm and step. The n envs are one batch of
the core (:class:`~lepton_env.envs.vector.BatchedExpansion`), stepped in one
call, as the single-agent :class:`~lepton_env.envs.sb3_vec.LeptonExpansionVecEnv`
whose conventions it keeps (same-step autoreset, ``terminal_observation``,
``TimeLimit.truncated``, VecMonitor's ``episode`` statistics, ``action_masks()``).

Rows: row ``env * L + l`` is learning firm ``learners[l]`` in env ``env``
(``num_envs = n * L``). A row's episode is its firm's life in its env:

* a firm that goes bankrupt ends its row's episode (``done``, not
  ``TimeLimit.truncated``; its ``episode`` statistics); while the others play
  on, the row shows the firm's frozen state (reward 0, only HOLD valid, an
  absorbing state of value 0) and the end of the env closes that stretch with
  a second ``done`` (without ``episode`` statistics);
* at the horizon every firm still in ends, with ``TimeLimit.truncated`` False (the
  horizon ends the game: nothing is bootstrapped past it);
* an env whose episode ended (horizon, or every firm out) is reset in the same
  ``step_wait`` (its rows show the new episode).

``seed(s)`` seeds env ``e`` with ``s + e`` at the next ``reset()``, so the rows
of env ``e`` follow ``parallel_env(...).reset(seed=s + e)`` bit for bit.

Opponent populations: a scripted firm given as a
:class:`~lepton_env.multi.population.Population` (``{member id: agent spec}`` and
weights) is played, per env and episode, by a member drawn with probability
``weight / sum of weights`` (:mod:`lepton_env.multi.population`):

* the draw is a pure function of the episode's key (counter-based stream ``OPPONENT``
  of :mod:`lepton_env.rng`, one number per seat), so it follows ``seed(s)`` like the
  world does, and an env draws the same alone as in a batch of any size;
* each step, one batched ``predict`` per member over the envs that drew it (a member no
  env drew is not called); a recurrent member's state follows its envs when the envs
  of a member change at an episode start;
* each seat has its own population (or a plain agent); :meth:`set_population_weights`
  changes a seat's weights for the episodes that start afterwards (a prioritized or
  PSRO population, updated between episodes); an episode keeps its member;
* every row's info has ``"opponent"``: ``{seat agent: member id}`` of the episode the
  step played (at a ``done``, the episode that ended; ``reset_infos`` name the new
  one's); :attr:`population_draws` gives the members' indices per env.

A population of one member plays exactly as that agent given plainly (only the infos
gain ``"opponent"``); with no population nothing of the above happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from lepton_env import rng
from lepton_env.envs.actions import ActionError
from lepton_env.envs.expansion import InvalidAction, step_infos
from lepton_env.envs.sb3_vec import ENV_METHODS, SHARED_ATTRIBUTES, LeptonExpansionVecEnv
from lepton_env.envs.vector import batch_kpi_infos
from lepton_env.mechanisms.competitors import Persona
from lepton_env.multi.firms import agent_ids, firm_observation_space
from lepton_env.multi.parallel import multi_firm_batch
from lepton_env.multi.population import PopulationSeat, Weights
from lepton_env.multi.scripted import ScriptSpec, scripted_firms
from lepton_env.params import Params
from lepton_env.reward import RewardFunction
from lepton_env.scenarios import ScenarioGenerator


class LeptonMultiVecEnv(LeptonExpansionVecEnv):
    """n envs of a multi-firm scenario as an SB3 ``VecEnv`` of (env, learning firm) rows.

    Arguments: ``num_envs`` (n, the envs), ``scenario`` and the single-agent
    env's keywords; ``learners``, the agents (firm names as in
    :attr:`agents`) under learning control (default: every firm not in
    ``scripted``); ``scripted``, ``{agent: agent spec}`` for every other firm:
    a baseline name (``"HomeOnlyAgent"``), a baseline class (built for that
    firm's home and distances) or an object with ``predict`` (a loaded model;
    it reads the firm's own single-agent columns when its observation space
    has that width), or a :class:`~lepton_env.multi.population.Population` of these (see
    the module docstring); ``deterministic_scripted`` is passed to their
    ``predict``. ``action_masks()`` gives the (n L, mask size) valid actions of
    the rows, also through ``env_method("action_masks")`` (MaskablePPO).
    A finished row's info has its firm's KPIs (``info_kpis=True``: every row's);
    :attr:`kpis` has every firm's, as arrays over the firm rows ``env * F + firm``.
    """

    def __init__(
        self,
        num_envs: int,
        scenario: str | ScenarioGenerator | Params = "race",
        *,
        learners: Sequence[str] | None = None,
        scripted: Mapping[str, ScriptSpec] | None = None,
        deterministic_scripted: bool = True,
        action_mode: str = "multi_discrete",
        invalid_action: InvalidAction = "noop",
        reward_function: RewardFunction | None = None,
        personas: tuple[Persona, ...] | None = None,
        render_mode: str | None = None,
        info_kpis: bool = False,
        **params: Any,
    ) -> None:
        self.batch = multi_firm_batch(
            num_envs,
            scenario,
            action_mode=action_mode,
            render_mode=render_mode,
            render_modes=("ansi", "rgb_array"),
            invalid_action=invalid_action,
            reward_function=reward_function,
            personas=personas,
            **params,
        )
        self.render_mode = render_mode
        self.info_kpis = info_kpis
        params_ = self.batch.params
        self.agents = agent_ids(params_)
        scripted = dict(scripted or {})
        if learners is None:
            learners = [a for a in self.agents if a not in scripted]
        learners = list(learners)
        unknown = [a for a in learners if a not in self.agents]
        if unknown:
            raise ValueError(
                f"learners names unknown agents {unknown}: agents are {list(self.agents)}"
            )
        both = sorted(set(learners) & set(scripted))
        if both:
            raise ValueError(f"agents {both} are both learners and scripted: choose one")
        if len(set(learners)) != len(learners) or not learners:
            raise ValueError(f"learners = {learners}: expected one or more distinct agents")
        unplayed = [a for a in self.agents if a not in learners and a not in scripted]
        if unplayed:
            raise ValueError(
                f"agents {unplayed} are neither learners nor scripted: name an agent for each in "
                "scripted= (e.g. 'HomeOnlyAgent')"
            )
        self.learners = tuple(a for a in self.agents if a in learners)  # firm order
        self.learner_firms = np.array([self.agents.index(a) for a in self.learners], dtype=np.intp)
        n, num_firms, num_learners = self.batch.num_envs, len(self.agents), len(self.learners)
        # row env * L + l <- firm row env * F + learner_firms[l] of the batch
        self._rows = (np.arange(n)[:, None] * num_firms + self.learner_firms[None, :]).reshape(-1)
        self._identity = num_learners == num_firms
        observation_box = firm_observation_space(params_)
        VecEnv.__init__(self, n * num_learners, observation_box, self.batch.single_action_space)
        self.scripted = scripted_firms(
            scripted,
            self.agents,
            params_,
            n,
            action_mode,
            int(observation_box.shape[0]),
            deterministic_scripted,
        )
        self.populations = {
            seat.agent: seat for seat in self.scripted if isinstance(seat, PopulationSeat)
        }
        # each env's {seat: member id} of its episode, replaced (never mutated) at a new draw
        self._opponents: list[dict[str, str]] = [{} for _ in range(n)]
        self._world_seeds: list[int | None] = [None] * n
        self._np_random = np.random.default_rng()
        self._actions: NDArray[Any] | None = None
        self._kpis: dict[str, Any] = {}
        self._out = np.zeros(n * num_firms, dtype=bool)  # firm rows that went bankrupt
        self._episode_returns = np.zeros(self.num_envs, dtype=np.float32)
        self._episode_lengths = np.zeros(self.num_envs, dtype=np.int32)
        self._t_start = time.time()

    # ---------------------------------------------------------------- VecEnv API
    def reset(self) -> VecEnvObs:
        n = self.batch.num_envs
        worlds = np.arange(n)
        keys = self.batch.episode_keys(worlds, self._world_seeds, self._np_random)
        self.batch.reset_rows(worlds, keys)
        self._world_seeds = [None] * n
        self._reset_seeds()
        self._reset_options()
        self._out[:] = False
        self._start_episodes(worlds)
        self._episode_returns[:] = 0.0
        self._episode_lengths[:] = 0
        masks = self.action_masks()
        self.reset_infos = [{"action_mask": masks[i]} for i in range(self.num_envs)]
        self._add_opponents(self.reset_infos, np.arange(self.num_envs))
        return self._learner_rows(self._observation())

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seed env ``e`` with ``seed + e`` at the next ``reset()``; returns each row's seed."""
        if seed is None:
            return [None] * self.num_envs
        seed = rng.check_seed(seed, count=self.batch.num_envs)
        self._world_seeds = [seed + e for e in range(self.batch.num_envs)]
        return [seed + int(e) for e in self._rows // len(self.agents)]

    def step_async(self, actions: NDArray[Any]) -> None:
        if actions is None:
            raise ActionError(
                f"actions = None: expected one action per row (env, learning firm), shape "
                f"({self.num_envs}, *{tuple(self.action_space.shape or ())})"
            )
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("call step_async() before step_wait()")
        actions, self._actions = self._actions, None
        batch_actions = self._firm_actions(actions)
        was_out = self._out.copy()
        output, face_invalid = self.batch.step(batch_actions)
        num_firms, rows = len(self.agents), self._rows
        terminated, truncated = output.terminated, output.truncated
        world_done = (terminated | truncated).reshape(-1, num_firms).all(axis=1)
        self._out |= terminated
        newly_out = terminated & ~was_out
        per_row_world = np.repeat(world_done, len(self.learners))
        dones = newly_out[rows] | per_row_world
        rewards = output.reward[rows].astype(np.float32)
        self._episode_returns += rewards
        self._episode_lengths += 1
        self._kpis = batch_kpi_infos(output, face_invalid)
        done_rows = np.flatnonzero(dones)
        firm_rows = rows[done_rows]
        if self.info_kpis:
            infos = step_infos(output, rows, face_invalid[rows])
        else:
            infos = [{} for _ in range(self.num_envs)]
            for row, info in zip(
                done_rows.tolist(),
                step_infos(output, firm_rows, face_invalid[firm_rows]),
                strict=True,
            ):
                infos[row] = info
        if len(done_rows):
            # the rows' last observations, before their envs are reset
            terminal = list(self._observation()[firm_rows])
            time_limit = (truncated & ~terminated)[firm_rows].tolist()
            lived = (~was_out[firm_rows]).tolist()
            returns = list(self._episode_returns[done_rows])
            lengths = list(self._episode_lengths[done_rows])
            elapsed = round(time.time() - self._t_start, 6)
            for row, observation, limit, alive, episode_return, length in zip(
                done_rows.tolist(), terminal, time_limit, lived, returns, lengths, strict=True
            ):
                info = infos[row]
                info["terminal_observation"] = observation
                info["TimeLimit.truncated"] = limit
                if alive:  # the stretch after a bankruptcy is no episode of the firm's
                    info["episode"] = {"r": episode_return, "l": length, "t": elapsed}
            self._episode_returns[done_rows] = 0.0
            self._episode_lengths[done_rows] = 0
        self._add_opponents(infos, np.arange(self.num_envs))  # the episodes of this step
        worlds = np.flatnonzero(world_done)
        if len(worlds):
            self.batch.autoreset(worlds)
            self._out.reshape(-1, num_firms)[worlds] = False
            self._start_episodes(worlds)
        if len(done_rows):
            masks = self.action_masks()[done_rows]
            for row, mask in zip(done_rows.tolist(), masks, strict=True):
                self.reset_infos[row] = {"action_mask": mask}
            self._add_opponents(self.reset_infos, done_rows)
        return self._learner_rows(self._observation()), rewards, dones, infos

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """A per-row attribute: the spaces, ``agent`` (the row's firm), a shared attribute."""
        rows = self._indices(indices)
        if attr_name == "action_space":
            return [self.action_space for _ in rows]
        if attr_name == "observation_space":
            return [self.observation_space for _ in rows]
        if attr_name == "agent":
            return [self.learners[i % len(self.learners)] for i in rows]
        if attr_name in ENV_METHODS:
            return [self._env_method(attr_name, i) for i in rows]
        if attr_name in SHARED_ATTRIBUTES:
            owner: Any = self if attr_name == "render_mode" else self.batch
            value = getattr(owner, attr_name)
            return [value for _ in rows]
        raise AttributeError(
            f"get_attr({attr_name!r}): the rows of {type(self).__name__} have "
            f"{['action_space', 'observation_space', 'agent', *ENV_METHODS, *SHARED_ATTRIBUTES]}"
        )

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [self.batch.render_env(self._world(i), "rgb_array") for i in range(self.num_envs)]

    # ---------------------------------------------------------------- extras
    def action_masks(self) -> NDArray[np.bool_]:
        """Valid actions of every row, (n L, mask size) bool."""
        return self._learner_rows(self.batch.action_masks())

    def set_population_weights(self, agent: str, weights: Weights) -> None:
        """New weights of the population that plays ``agent``: one per member, or
        ``{member id: weight}`` (members not named weigh 0), non-negative, summing to > 0.

        They rule the draws of the episodes that start from now on; an episode under way
        keeps its member (a prioritized population: e.g. a PSRO meta-strategy, or weights
        from the learner's results against each member, updated between episodes).
        """
        if agent not in self.populations:
            raise KeyError(
                f"set_population_weights({agent!r}): no population plays that agent; the "
                f"population seats are {list(self.populations)} (agents {list(self.agents)})"
            )
        self.populations[agent].set_weights(weights)

    @property
    def population_draws(self) -> dict[str, NDArray[np.intp]]:
        """``{seat agent: (n,) member index of each env's episode}`` (``ids`` of the seat's
        :class:`~lepton_env.multi.population.Population` name them)."""
        return {agent: seat.draws.copy() for agent, seat in self.populations.items()}

    def snapshot(self) -> dict[str, NDArray[Any]]:
        """:meth:`LeptonExpansionVecEnv.snapshot` plus which firms went bankrupt and the
        population members of the episodes (``opponent/<agent>``)."""
        arrays = super().snapshot()
        arrays["firm_out"] = self._out.copy()
        for agent, seat in self.populations.items():
            arrays[f"opponent/{agent}"] = seat.draws.copy()
        return arrays

    def restore(self, arrays: Mapping[str, NDArray[Any]]) -> VecEnvObs:
        """Continue from a :meth:`snapshot` (a scripted recurrent agent starts afresh)."""
        super().restore(arrays)
        self._out[:] = arrays["firm_out"]
        n = self.batch.num_envs
        for agent, seat in self.populations.items():
            key = f"opponent/{agent}"
            if key not in arrays or np.shape(arrays[key]) != (n,):
                raise ValueError(
                    f"snapshot {key}: absent or not ({n},): taken without this population"
                )
            seat.restore_draws(np.asarray(arrays[key], dtype=np.intp), len(self.agents))
        self._refresh_opponents(np.arange(n))
        return self._learner_rows(self._observation())

    # ---------------------------------------------------------------- helpers
    def _observation(self) -> NDArray[np.float32]:
        """Every firm row's flat observation, (n F, D) (the batch's own array)."""
        observation = self.batch.observe_all()
        assert isinstance(observation, np.ndarray)  # the batch is built flat
        return observation

    def _learner_rows(self, array: NDArray[Any]) -> NDArray[Any]:
        return array if self._identity else array[self._rows]

    def _world(self, row: int) -> int:
        return row // len(self.learners)

    def _firm_actions(self, actions: Any) -> NDArray[Any]:
        """The rows' actions and the scripted firms' as one action per firm row."""
        shape = tuple(self.action_space.shape or ())
        try:
            array = np.asarray(actions)
        except ValueError:
            raise ActionError(f"actions = {actions!r}: not a rectangular array") from None
        if array.shape != (self.num_envs, *shape):
            raise ActionError(
                f"actions has shape {array.shape}, expected ({self.num_envs}, *{shape}): one "
                f"action per row (env, learning firm), {self.batch.num_envs} envs x "
                f"{len(self.learners)} learners {list(self.learners)}"
            )
        if not self.scripted:
            return array
        full = np.zeros((self.batch.num_rows, *shape), dtype=array.dtype)
        full[self._rows] = array
        observation = self._observation()
        masks = self.batch.action_masks()
        for firm in self.scripted:
            firm.act_into(full, observation, masks)
        return full

    def _start_episodes(self, worlds: NDArray[np.intp]) -> None:
        """Tell the scripted firms that ``worlds`` start episodes (the populations draw)."""
        assert self.batch.state is not None
        keys = self.batch.state.episode_key[worlds]
        for firm in self.scripted:
            firm.start_episodes(worlds, keys, self.batch.num_envs, len(self.agents))
        self._refresh_opponents(worlds)

    def _refresh_opponents(self, worlds: NDArray[np.intp]) -> None:
        if self.populations:
            ids = {agent: seat.member_ids() for agent, seat in self.populations.items()}
            for world in worlds.tolist():
                self._opponents[world] = {agent: ids[agent][world] for agent in ids}

    def _add_opponents(self, infos: list[dict[str, Any]], rows: NDArray[np.intp]) -> None:
        """``infos[row]["opponent"]``: ``{seat agent: member id}`` of the row's episode."""
        if self.populations:
            num_learners = len(self.learners)
            for row in rows.tolist():
                infos[row]["opponent"] = self._opponents[row // num_learners]

    def _env_method(self, name: str, index: int) -> Callable[..., Any]:
        if name == "action_masks":
            return lambda: self.action_masks()[index]
        return lambda: self.batch.render_env(self._world(index), self.render_mode)
