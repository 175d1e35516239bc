"""A black-box search baseline: the cross-entropy method on the batched core.

The cross-entropy method (CEM; Rubinstein 1999, Rubinstein & Kroese 2004,
*The Cross-Entropy Method*, ch. 4 on combinatorial optimization) searches a
space of ``D`` categorical genes, gene ``d`` taking one of ``K_d`` values.
It keeps an independent categorical distribution ``p_d`` per gene (uniform
at first) and repeats, each generation:

1. draw a population of ``N`` candidates ``x_i ~ prod_d p_d``;
2. score each by its mean return ``S(x_i)`` over the training seeds, all
   ``N x seeds`` episodes played as one batched rollout of
   :class:`~lepton_env.envs.vector.LeptonExpansionVectorEnv`;
3. keep the elite, the ``ceil(rho N)`` best candidates (``rho`` = elite fraction);
4. refit with smoothing ``alpha``:
   ``p_d(k) <- alpha * #{elite with x_d = k} / #elite + (1 - alpha) * p_d(k)``.

The best candidate seen so far is carried into every later population (so
the incumbent is always re-scored against the new draws) and is what the
agent plays. The training seeds are the same in every generation (common
random numbers), so scores of different generations compare.

Two families of candidates (``family=``):

* ``"plans"``, open-loop plans: on the MultiDiscrete and Continuous faces a
  :class:`~lepton_env.types.Move` per (quarter, region) and an R&D level per
  quarter; on the Discrete (Single) face one action per quarter. A planned
  move the mask forbids when it is played becomes HOLD (action 0, "pass", on
  the Single face).
* ``"rules"``, a parametric rule family decoded from the observation and the
  masks each quarter: per foreign region an entry mode and an entry quarter,
  an upgrade (mode, quarter) and an exit (whether, quarter); per region
  spend flags (marketing, localization, compliance); one R&D level.
  See :class:`RuleFamily` for the decoding.

The search stops when every gene's distribution has settled on one value, or
when the budget is spent: ``max_env_steps`` (env-steps simulated, every row of the batch
counted each quarter it is stepped), ``max_cpu_seconds`` (CPU time of the
search itself, ``time.process_time``: how a learner's training is counted
too), ``max_wall_seconds`` and ``generations``, whichever ends first; a
generation starts only if its env-steps fit in what is left. The same
settings and ``seed`` give the same result, unless a time limit is the one
that stops the search.

Full strength and the learner's rules (docs/benchmarks.md, "The comparison
protocol"):

* ``train_seeds="auto"`` scales the training episodes per candidate with the
  budget (:func:`episodes_per_candidate`): ``k = clip(min(B / (G x population x
  horizon), T / (G x c)), 1, max_train_seeds)`` for ``G = target_generations``
  more generations, the env-steps ``B`` (``max_env_steps``) and CPU seconds ``T``
  (``max_cpu_seconds``) left, and ``c`` the CPU seconds of a generation per episode
  per candidate. It is sized after the first generation (one episode per candidate,
  ``c`` from its CPU) and again, for the CPU, after the second: a warmed batch at
  the new size, whose ``c`` is the rate the later generations run at (a first
  generation of one episode per candidate runs at a lower rate than the larger
  batches after it, and so undersized ``k``). A fixed count scores every candidate
  on a few episodes whatever the budget, so more time only overfits them.
* ``validation_episodes > 0`` selects what is played as a learner's
  ``best_model.zip`` is: each new incumbent (best training score) is scored on
  the validation episodes (seeds ``validation_first_seed + i``: lepton-train's
  ``eval.first_seed``, below the test seeds) and the best of them by that score
  is played. Its episodes count in the budget.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from lepton_env.agents.comparison.episodes import TEST_FIRST_SEED, VALIDATION_FIRST_SEED
from lepton_env.agents.players.heuristics import HeuristicAgent, Intent, ObservationView
from lepton_env.params import Params
from lepton_env.types import MODE_RANK, NUM_MOVES, EntryMode, Move

#: First test seed of ``lepton-compare`` (configs/compare.yaml ``eval.first_seed``);
#: the training and validation seeds must lie below it so that search never sees a test
#: episode.
EVALUATION_FIRST_SEED = TEST_FIRST_SEED
FAMILIES = ("rules", "plans")
#: ``train_seeds`` value that scales the episodes per candidate with the budget.
AUTO = "auto"


def _cpu_seconds() -> float:
    """The CPU clock of the budgets: the process's CPU time, as a learner's is counted."""
    return time.process_time()


def episodes_per_candidate(
    *,
    generations: int,
    population: int,
    horizon: int,
    most: int,
    env_steps_left: float | None = None,
    cpu_left: float | None = None,
    cpu_per_episode: float | None = None,
) -> int | None:
    """Training episodes per candidate that pay for ``generations`` more generations within
    what the budget has left: ``floor(env_steps_left / (generations x population x
    horizon))`` and ``floor(cpu_left / (generations x cpu_per_episode))``, the smaller,
    clipped to ``[1, most]``; ``cpu_per_episode`` is the CPU seconds of a generation per
    episode per candidate (its fixed costs included, so the CPU is never overspent by the
    count). None when no budget is given."""
    counts: list[float] = []
    if env_steps_left is not None:
        counts.append(env_steps_left // (generations * population * horizon))
    if cpu_left is not None and cpu_per_episode is not None and cpu_per_episode > 0:
        counts.append(math.floor(cpu_left / (generations * cpu_per_episode)))
    if not counts:
        return None
    return int(np.clip(min(counts), 1, most))


# ---------------------------------------------------------------------- the optimizer
class CategoricalCrossEntropy:
    """CEM over ``D`` independent categorical genes (Rubinstein & Kroese 2004, ch. 4).

    ``probabilities`` is (D, K_max); gene ``d`` has ``cardinality[d]`` values and
    zero probability beyond them. :meth:`update` is the smoothed elite refit of
    the module docstring.
    """

    def __init__(
        self,
        cardinality: Sequence[int] | NDArray[np.int64],
        elite_fraction: float,
        smoothing: float,
        generator: np.random.Generator,
    ) -> None:
        self.cardinality = np.asarray(cardinality, dtype=np.int64)  # (D,)
        if self.cardinality.ndim != 1 or np.any(self.cardinality < 1):
            raise ValueError(f"cardinality must be a 1-D array of ints >= 1, got {cardinality}")
        self.elite_fraction = elite_fraction
        self.smoothing = smoothing
        self.generator = generator
        categories = np.arange(int(self.cardinality.max()))
        allowed = categories[None, :] < self.cardinality[:, None]
        self.probabilities = allowed / self.cardinality[:, None]  # (D, K_max)

    def sample(self, count: int) -> NDArray[np.int64]:
        """``count`` candidates drawn from the current distribution, (count, D)."""
        cumulative = np.cumsum(self.probabilities, axis=1)  # (D, K_max)
        uniform = self.generator.random((count, self.cardinality.size))  # (count, D)
        genes = (uniform[:, :, None] >= cumulative[None, :, :]).sum(axis=2)
        # a cumulative sum that rounds to just below 1 must not step past the last value
        return np.minimum(genes, self.cardinality - 1).astype(np.int64)

    @property
    def converged(self) -> bool:
        """Every gene's distribution on one value (probability > 0.999): later draws
        repeat the incumbent, so the search stops (Rubinstein & Kroese 2004, sec. 4.2)."""
        return bool(np.all(self.probabilities.max(axis=1) > 1.0 - 1e-3))

    def elite_count(self, population: int) -> int:
        """``max(1, ceil(rho N))``."""
        return max(1, math.ceil(self.elite_fraction * population - 1e-9))

    def update(self, genes: NDArray[np.int64], scores: NDArray[np.float64]) -> NDArray[np.intp]:
        """Refit to the elite of ``genes`` (N, D) by ``scores`` (N,); returns the elite rows."""
        order = np.argsort(-scores, kind="stable")
        elite = order[: self.elite_count(len(scores))]
        one_hot = genes[elite][:, :, None] == np.arange(self.probabilities.shape[1])
        frequency = one_hot.mean(axis=0)  # (D, K_max)
        self.probabilities = (
            self.smoothing * frequency + (1.0 - self.smoothing) * self.probabilities
        )
        return elite


# ---------------------------------------------------------------------- the families
class RuleFamily:
    """Per region an entry, an upgrade, an exit and spend flags; one R&D level.

    Genes of region ``r`` (``GENES_PER_REGION`` of them, in ``REGION_GENES``
    order), then one R&D level gene:

    ============== ============================================================
    entry_mode     0 none, 1 pilot, 2 partnership, 3 acquisition, 4 greenfield
    entry_quarter  slot ``k``: enter from quarter ``k * quarter_step`` on
    upgrade_mode   0 none, 1 partnership, 2 acquisition, 3 greenfield
    upgrade_quarter slot: upgrade from that quarter on, once present
    exit           0 never, 1 exit
    exit_quarter   slot: exit from that quarter on (and never come back)
    marketing      0/1: spend on marketing where present
    localization   0/1: spend on localization where present
    compliance     0/1: spend on compliance where present
    ============== ============================================================

    The home region's entry, upgrade and exit genes have one value (none).
    Each quarter ``t`` and region, the first of these that applies and is
    valid is the region's move: exit (``exit`` and ``t >= exit_quarter``,
    present); entry (absent, ``t >=`` entry quarter, before the exit
    quarter); upgrade (present, ``t >=`` upgrade quarter, the upgrade mode's
    commitment rank above the held one, before the exit quarter); else one of
    the flagged spends, in rotation (``t mod 3`` first). A move waits, quarter
    after quarter, while it is invalid (e.g. cash is short). On the Single face
    (one move a quarter) exits go first, then entries and upgrades (largest
    market first), then a pending R&D change, then spends.
    """

    name = "rules"
    REGION_GENES = (
        "entry_mode",
        "entry_quarter",
        "upgrade_mode",
        "upgrade_quarter",
        "exit",
        "exit_quarter",
        "marketing",
        "localization",
        "compliance",
    )
    GENES_PER_REGION = len(REGION_GENES)
    ENTRY_MOVES = np.array(
        [Move.HOLD, Move.ENTER_PILOT, Move.ENTER_PARTNERSHIP, Move.ENTER_ACQUISITION,
         Move.ENTER_GREENFIELD],
        dtype=np.int64,
    )  # fmt: skip
    UPGRADE_MOVES = np.array(
        [Move.HOLD, Move.ENTER_PARTNERSHIP, Move.ENTER_ACQUISITION, Move.ENTER_GREENFIELD],
        dtype=np.int64,
    )
    SPEND_MOVES = np.array([Move.MARKETING, Move.LOCALIZE, Move.COMPLY], dtype=np.int64)
    #: Single face: the most urgent move is played.
    EXIT_PRIORITY, ENTRY_PRIORITY, SPEND_PRIORITY = 30.0, 20.0, 10.0

    def __init__(self, params: Params, action_mode: str, quarter_step: int) -> None:
        self.params = params
        self.action_mode = action_mode
        self.quarter_step = quarter_step
        self.slots = math.ceil(params.horizon / quarter_step)
        per_region = []
        for region in range(params.num_regions):
            foreign = region != params.home_region
            slots = self.slots if foreign else 1
            per_region.append(
                [len(self.ENTRY_MOVES) if foreign else 1, slots,
                 len(self.UPGRADE_MOVES) if foreign else 1, slots,
                 2 if foreign else 1, slots, 2, 2, 2]
            )  # fmt: skip
        self.cardinality = np.array([*np.ravel(per_region), params.rnd_levels], dtype=np.int64)
        self.gene_names = (
            *(
                f"{name}[{params.region_names[r]}]"
                for r in range(params.num_regions)
                for name in self.REGION_GENES
            ),
            "rnd_level",
        )

    def intent(
        self,
        view: ObservationView,
        valid: NDArray[np.bool_],
        genes: NDArray[np.int64],
        quarter: NDArray[np.int64],
    ) -> Intent:
        """The moves of every row's rule this quarter; ``genes`` (B, D), ``quarter`` (B,)."""
        p = self.params
        batch, regions = view.batch_size, p.num_regions
        region_genes = genes[:, : regions * self.GENES_PER_REGION].reshape(batch, regions, -1)
        gene = {name: region_genes[..., i] for i, name in enumerate(self.REGION_GENES)}
        now = quarter[:, None]  # (B, 1)
        mode = view.entry_mode  # (B, R)
        present = mode != EntryMode.NONE
        rank = np.asarray(MODE_RANK)

        def allowed(moves: NDArray[np.int64]) -> NDArray[np.bool_]:
            return np.take_along_axis(valid, moves[..., None], axis=-1)[..., 0]

        exit_from = gene["exit_quarter"] * self.quarter_step
        leaving = (gene["exit"] == 1) & (now >= exit_from)
        exit_now = leaving & present & valid[..., Move.EXIT]
        entry_move = self.ENTRY_MOVES[gene["entry_mode"]]
        enter_now = (
            ~present
            & (entry_move != Move.HOLD)
            & (now >= gene["entry_quarter"] * self.quarter_step)
            & ~leaving
            & allowed(entry_move)
        )
        upgrade_move = self.UPGRADE_MOVES[gene["upgrade_mode"]]
        upgrade_now = (
            present
            & (upgrade_move != Move.HOLD)
            & (rank[upgrade_move] > rank[mode])
            & (now >= gene["upgrade_quarter"] * self.quarter_step)
            & ~leaving
            & allowed(upgrade_move)
        )
        moves = np.where(exit_now, Move.EXIT, Move.HOLD).astype(np.int64)
        moves = np.where(~exit_now & enter_now, entry_move, moves)
        committing = ~exit_now & ~enter_now & upgrade_now
        moves = np.where(committing, upgrade_move, moves)
        priority = np.where(exit_now, self.EXIT_PRIORITY, 0.0)
        size = view.region("log_potential")
        priority = np.where(enter_now | committing, self.ENTRY_PRIORITY + size, priority)

        level = genes[:, -1]
        spending = (moves == Move.HOLD) & present & ~leaving
        if self.action_mode == "discrete":
            # one move a quarter: a pending R&D change goes before any spend
            current = np.rint(view.firm_feature("rnd") * (p.rnd_levels - 1)).astype(np.int64)
            quiet = ~(moves != Move.HOLD).any(axis=1)
            spending &= ~(quiet & (level != current))[:, None]
        flags = np.stack([gene["marketing"], gene["localization"], gene["compliance"]], -1) == 1
        spend_valid = valid[..., self.SPEND_MOVES] & flags  # (B, R, 3)
        spend = np.full((batch, regions), Move.HOLD, dtype=np.int64)
        for turn in reversed(range(len(self.SPEND_MOVES))):
            kind = (quarter + turn) % len(self.SPEND_MOVES)  # (B,)
            chosen = np.take_along_axis(spend_valid, kind[:, None, None].repeat(regions, 1), -1)
            spend = np.where(chosen[..., 0], self.SPEND_MOVES[kind][:, None], spend)
        spend_now = spending & (spend != Move.HOLD)
        moves = np.where(spend_now, spend, moves)
        rotation = ((np.arange(regions)[None, :] + now) % regions) / regions
        priority = np.where(spend_now, self.SPEND_PRIORITY + rotation, priority)
        return Intent(moves=moves, priority=priority, rnd_level=level.astype(np.int64))

    def actions(
        self,
        agent: HeuristicAgent,
        view: ObservationView,
        masks: NDArray[np.bool_],
        genes: NDArray[np.int64],
        quarter: NDArray[np.int64],
    ) -> NDArray[Any]:
        """Face actions of every row's rule, (B, ...)."""
        valid = agent._valid_moves(masks)
        return agent._encode(self.intent(view, valid, genes, quarter), valid, masks, view)


class PlanFamily:
    """Open-loop plans: what to play in each quarter, whatever happens.

    MultiDiscrete and Continuous faces: gene ``t R + r`` is the
    :class:`~lepton_env.types.Move` of region ``r`` in quarter ``t`` (10
    values), then gene ``T R + t`` the R&D level of quarter ``t``. Single
    face: gene ``t`` is the action of quarter ``t`` (``10 R + L`` values). A
    move the mask forbids when played is replaced by HOLD (the "pass"
    action 0 on the Single face).
    """

    name = "plans"

    def __init__(self, params: Params, action_mode: str, quarter_step: int) -> None:
        self.params = params
        self.action_mode = action_mode
        horizon, regions = params.horizon, params.num_regions
        if action_mode == "discrete":
            mask_size = regions * NUM_MOVES + params.rnd_levels
            self.cardinality = np.full(horizon, mask_size, dtype=np.int64)
            self.gene_names = tuple(f"action[{t}]" for t in range(horizon))
        else:
            self.cardinality = np.array(
                [NUM_MOVES] * (horizon * regions) + [params.rnd_levels] * horizon, dtype=np.int64
            )
            self.gene_names = tuple(
                f"move[{t}, {params.region_names[r]}]"
                for t in range(horizon)
                for r in range(regions)
            ) + tuple(f"rnd_level[{t}]" for t in range(horizon))

    def actions(
        self,
        agent: HeuristicAgent,
        view: ObservationView,
        masks: NDArray[np.bool_],
        genes: NDArray[np.int64],
        quarter: NDArray[np.int64],
    ) -> NDArray[Any]:
        """Face actions of every row's plan in its quarter, (B, ...)."""
        p = self.params
        rows = np.arange(view.batch_size)
        quarter = np.clip(quarter, 0, p.horizon - 1)
        if self.action_mode == "discrete":
            planned = genes[rows, quarter]
            return np.where(masks[rows, planned], planned, 0).astype(np.int64)
        regions = p.num_regions
        columns = quarter[:, None] * regions + np.arange(regions)[None, :]
        moves = np.take_along_axis(genes, columns, axis=1)
        level = genes[rows, p.horizon * regions + quarter]
        intent = Intent(moves=moves, priority=np.zeros(moves.shape), rnd_level=level)
        valid = agent._valid_moves(masks)
        return agent._encode(intent, valid, masks, view)


Family = RuleFamily | PlanFamily
FAMILY_CLASSES: dict[str, type[RuleFamily] | type[PlanFamily]] = {
    "rules": RuleFamily,
    "plans": PlanFamily,
}


# ---------------------------------------------------------------------- the agent
class CrossEntropySearchAgent(HeuristicAgent):
    """The best rule or plan the cross-entropy method finds, played through the agent protocol.

    ``CrossEntropySearchAgent(env, family="rules", ...)`` runs the search on
    ``env``'s scenario and face when built (what ``lepton-compare`` does with
    ``instantiate(spec, env)``); :meth:`predict` then plays the best candidate,
    reading the quarter from the observation's ``time`` feature. ``learn``
    continues the search for ``total_timesteps`` more env-steps. ``budget``
    records what the search used.

    Settings (validated; each error names the key and its allowed range):

    ``family``            ``"rules"`` or ``"plans"`` (see the module docstring)
    ``population``        candidates per generation, >= 2
    ``elite_fraction``    share of the population refitted to, in (0, 1]
    ``smoothing``         weight of the elite frequencies in the refit, in (0, 1]
    ``generations``       most generations, >= 1
    ``train_seeds``       episodes per candidate, seeds ``first_train_seed + i``, >= 1,
                          or ``"auto"`` (scaled with the budget, module docstring)
    ``target_generations`` with ``"auto"``: the generations the budget should pay for
    ``max_train_seeds``   with ``"auto"``: the most episodes per candidate
    ``first_train_seed``  >= 0; the training seeds must end below ``validation_first_seed``
    ``validation_episodes`` episodes scoring each new incumbent (0: no validation; the
                          incumbent by training score is played)
    ``validation_first_seed`` first validation seed; the range ends below the test seeds
    ``max_env_steps``     env-step budget, >= 1, or None for no limit
    ``max_cpu_seconds``   CPU-time budget of the search in seconds, > 0, or None
    ``max_wall_seconds``  wall-clock budget in seconds, > 0, or None for no limit
    ``quarter_step``      rules: quarter genes in slots of this many quarters, >= 1
    ``seed``              seed of the search's draws
    """

    SETTINGS: ClassVar[dict[str, Any]] = {
        "family": "rules",
        "population": 64,
        "elite_fraction": 0.125,
        "smoothing": 0.7,
        "generations": 14,
        "train_seeds": 4,
        "target_generations": 30,
        "max_train_seeds": 64,
        "first_train_seed": 0,
        "validation_episodes": 0,
        "validation_first_seed": VALIDATION_FIRST_SEED,
        "max_env_steps": None,
        "max_cpu_seconds": None,
        "max_wall_seconds": None,
        "quarter_step": 1,
        "seed": 0,
    }

    def __init__(
        self,
        env: Any = None,
        *,
        params: Params | None = None,
        action_mode: str | None = None,
        found: Sequence[int] | None = None,
        **settings: Any,
    ) -> None:
        """``found``: the genes of a candidate already found (as :meth:`save` writes them);
        given, no search runs and the agent plays them."""
        super().__init__(env, params=params, action_mode=action_mode, **settings)
        _validate(self.settings)
        s = self.settings
        family_cls = FAMILY_CLASSES[s["family"]]
        self.family: Family = family_cls(self.params, self.action_mode, int(s["quarter_step"]))
        self.optimizer = CategoricalCrossEntropy(
            self.family.cardinality,
            float(s["elite_fraction"]),
            float(s["smoothing"]),
            np.random.default_rng(int(s["seed"])),
        )
        #: Episodes per candidate now (``"auto"`` starts at one, then scales).
        self.train_seeds = 1 if s["train_seeds"] == AUTO else int(s["train_seeds"])
        self.budget: dict[str, Any] = {
            "family": s["family"],
            "population": int(s["population"]),
            "train_seeds": self.train_seeds,
            "generations": 0,
            "env_steps": 0,
            "cpu_seconds": 0.0,
            "wall_seconds": 0.0,
            "best_train_return": None,
            "validation_return": None,
        }
        #: Per generation: best and elite-mean training return, the incumbent's.
        self.history: list[dict[str, float]] = []
        self.best_genes: NDArray[np.int64] | None = None
        self.best_score = -np.inf
        #: The candidate played when validating: the best incumbent on validation.
        self.selected_genes: NDArray[np.int64] | None = None
        self.selected_score = -np.inf
        self._vector_env: Any = None
        self._validation_env: Any = None
        #: ``"auto"`` with an env-step budget: the most episodes per candidate it pays for.
        self._steps_cap: int | None = None
        if found is not None:
            self.best_genes = self._checked_genes(found)
            self.selected_genes = self.best_genes
        else:
            self.search(
                s["max_env_steps"],
                s["max_wall_seconds"],
                int(s["generations"]),
                check=True,
                max_cpu_seconds=s["max_cpu_seconds"],
            )

    # ------------------------------------------------------------ search
    def search(
        self,
        max_env_steps: int | None,
        max_wall_seconds: float | None,
        generations: int,
        check: bool = False,
        max_cpu_seconds: float | None = None,
    ) -> CrossEntropySearchAgent:
        """Run up to ``generations`` more generations within the budgets.

        ``check=True`` raises if the env-step budget cannot pay for one generation.
        """
        horizon = self.params.horizon
        population = int(self.settings["population"])
        auto = self.settings["train_seeds"] == AUTO
        generation_cost = population * self.train_seeds * horizon
        if check and max_env_steps is not None and max_env_steps < generation_cost:
            raise ValueError(
                f"max_env_steps = {max_env_steps} cannot pay for one generation: it needs "
                f"population x train_seeds x horizon = {population * self.train_seeds} x "
                f"{horizon} = {generation_cost}; allowed [{generation_cost}, inf) or None"
            )
        first = int(self.settings["first_train_seed"])
        # numba's compilation and the envs' construction are not the search (nor training)
        _compile(self._vectorized())
        if int(self.settings["validation_episodes"]) > 0:
            _compile(self._validating())
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        used = 0
        for _ in range(generations):
            generation_cost = population * self.train_seeds * horizon
            if max_env_steps is not None and used + generation_cost > max_env_steps:
                break
            if max_wall_seconds is not None and time.perf_counter() - start >= max_wall_seconds:
                break
            generation_start = _cpu_seconds()
            if max_cpu_seconds is not None and generation_start - cpu_start >= max_cpu_seconds:
                break
            seeds = [first + i for i in range(self.train_seeds)] * population
            genes = self.optimizer.sample(population)
            if self.best_genes is not None:
                genes[0] = self.best_genes
            venv = self._vectorized()
            returns, steps = self._rollout(venv, np.repeat(genes, self.train_seeds, 0), seeds)
            used += steps
            scores = returns.reshape(population, self.train_seeds).mean(axis=1)
            elite = self.optimizer.update(genes, scores)
            best = int(np.argmax(scores))
            if scores[best] > self.best_score:
                self.best_score = float(scores[best])
                self.best_genes = genes[best].copy()
                used += self._validate(self.best_genes)
            self.budget["generations"] += 1
            self.history.append(
                {
                    "best": float(scores[best]),
                    "elite_mean": float(scores[elite].mean()),
                    "incumbent": self.best_score,
                }
            )
            if auto and self.budget["generations"] <= 2:
                now = _cpu_seconds()
                self._scale_train_seeds(
                    max_env_steps, max_cpu_seconds, used, now - cpu_start, now - generation_start
                )
            if self.optimizer.converged:
                break
        self.budget["env_steps"] += used
        self.budget["cpu_seconds"] += _cpu_seconds() - cpu_start
        self.budget["wall_seconds"] += time.perf_counter() - start
        if self.best_genes is not None and np.isfinite(self.best_score):
            self.budget["best_train_return"] = self.best_score
        return self

    def _scale_train_seeds(
        self,
        max_env_steps: int | None,
        max_cpu_seconds: float | None,
        used: int,
        cpu: float,
        generation_cpu: float,
    ) -> None:
        """``train_seeds="auto"`` (:func:`episodes_per_candidate`): after the first
        generation, episodes per candidate for ``target_generations`` more generations within
        the env-steps and CPU left (the CPU at the first generation's rate); after the second,
        a warmed batch at that size, the CPU's count again at its rate for the generations
        the first sizing planned (never more episodes than the env-steps pay for). A new
        count re-scores the incumbent on the new episodes (``used``: env-steps so far,
        ``cpu``: CPU seconds so far, ``generation_cpu``: the generation's)."""
        first = self.budget["generations"] == 1
        if not first and max_cpu_seconds is None:
            return  # the env-steps' count is exact: nothing to measure again
        generations = int(self.settings["target_generations"]) - (0 if first else 1)
        scaled = episodes_per_candidate(
            generations=max(generations, 1),
            population=int(self.settings["population"]),
            horizon=self.params.horizon,
            most=int(self.settings["max_train_seeds"]),
            env_steps_left=None if max_env_steps is None else max_env_steps - used,
            cpu_left=None if max_cpu_seconds is None else max_cpu_seconds - cpu,
            cpu_per_episode=generation_cpu / self.train_seeds,
        )
        if scaled is None:
            return
        if first:
            self._steps_cap = scaled if max_env_steps is not None else None
        elif self._steps_cap is not None:
            scaled = min(scaled, self._steps_cap)
        if scaled != self.train_seeds:
            self.train_seeds = scaled
            self.budget["train_seeds"] = scaled
            self.best_score = -np.inf  # scores on other episodes do not compare
            if self._vector_env is not None:
                self._vector_env.close()
                self._vector_env = None
            _compile(self._vectorized())  # built here, so the next generation is warm

    def _validate(self, genes: NDArray[np.int64]) -> int:
        """Score ``genes`` on the validation episodes, keep them if they score best there;
        the env-steps used (0 without validation: the incumbent is what is played)."""
        episodes = int(self.settings["validation_episodes"])
        if episodes == 0:
            self.selected_genes = genes
            return 0
        first = int(self.settings["validation_first_seed"])
        seeds = [first + i for i in range(episodes)]
        returns, steps = self._rollout(
            self._validating(), np.repeat(genes[None, :], episodes, 0), seeds
        )
        score = float(returns.mean())
        if score > self.selected_score:
            self.selected_score = score
            self.selected_genes = genes.copy()
            self.budget["validation_return"] = score
        return steps

    def _validating(self) -> Any:
        """The batched face of the validation episodes: validation_episodes envs."""
        if self._validation_env is None:
            self._validation_env = self._make_vector_env(int(self.settings["validation_episodes"]))
        return self._validation_env

    def _vectorized(self) -> Any:
        """The batched face the candidates are scored on: population x train_seeds envs."""
        if self._vector_env is None:
            count = int(self.settings["population"]) * self.train_seeds
            self._vector_env = self._make_vector_env(count)
        return self._vector_env

    def _make_vector_env(self, count: int) -> Any:
        from lepton_env.envs.vector import LeptonExpansionVectorEnv

        parts: dict[str, Any] = {}
        model = _env_model(self.env)
        if model is not None:
            parts = {"reward_function": model.reward_function, "personas": model.personas}
        return LeptonExpansionVectorEnv(
            count,
            self.params,
            action_mode=self.action_mode,  # type: ignore[arg-type]
            **parts,
        )

    def _rollout(
        self, venv: Any, genes: NDArray[np.int64], seeds: list[int]
    ) -> tuple[NDArray[np.float64], int]:
        """Episode returns of one batched rollout, (B,), and the env-steps it simulated."""
        observation, _ = venv.reset(seed=seeds)
        alive = np.ones(venv.num_envs, dtype=bool)
        returns = np.zeros(venv.num_envs)
        steps = 0
        while alive.any():
            view = ObservationView(observation, self.params.num_regions)
            actions = self.family.actions(
                self, view, venv.action_masks(), genes, self._quarter(view)
            )
            observation, reward, terminated, truncated, _ = venv.step(actions)
            steps += venv.num_envs
            returns += np.where(alive, reward, 0.0)
            alive &= ~(terminated | truncated)
        return returns, steps

    def _quarter(self, view: ObservationView) -> NDArray[np.int64]:
        """The quarter from the ``time`` feature ``t / T``, (B,)."""
        return np.rint(view.firm_feature("time") * self.params.horizon).astype(np.int64)

    def _checked_genes(self, found: Sequence[int]) -> NDArray[np.int64]:
        genes = np.asarray(found, dtype=np.int64)
        cardinality = self.family.cardinality
        if genes.shape != cardinality.shape:
            raise ValueError(
                f"found has {genes.size} genes; the {self.family.name} family of this scenario "
                f"and face has {cardinality.size}"
            )
        outside = np.flatnonzero((genes < 0) | (genes >= cardinality))
        if outside.size:
            d = int(outside[0])
            raise ValueError(
                f"found[{d}] ({self.family.gene_names[d]}) = {genes[d]}: "
                f"allowed [0, {cardinality[d] - 1}]"
            )
        return genes

    # ------------------------------------------------------------ protocol
    def predict(
        self,
        observation: Any,
        state: tuple[NDArray[Any], ...] | None = None,
        episode_start: NDArray[np.bool_] | None = None,
        deterministic: bool = True,
        action_masks: NDArray[np.bool_] | None = None,
        **kwargs: Any,
    ) -> tuple[NDArray[Any], tuple[NDArray[Any], ...] | None]:
        """The best candidate's actions for a batch of observations."""
        played = self.played_genes
        view = ObservationView(observation, self.params.num_regions)
        masks = self._masks(action_masks, view.batch_size)
        genes = np.broadcast_to(played, (view.batch_size, played.size))
        return self.family.actions(self, view, masks, genes, self._quarter(view)), state

    @property
    def played_genes(self) -> NDArray[np.int64]:
        """What :meth:`predict` plays: the best incumbent on the validation episodes, or
        the incumbent by training score without validation."""
        played = self.selected_genes if self.selected_genes is not None else self.best_genes
        if played is None:
            raise RuntimeError("the search found no candidate: give it a budget of one generation")
        return played

    def learn(
        self, total_timesteps: int = 0, callback: Any = None, **kwargs: Any
    ) -> CrossEntropySearchAgent:
        """Search on for up to ``total_timesteps`` env-steps (and ``max_wall_seconds``)."""
        if total_timesteps < 0:
            raise ValueError(f"total_timesteps = {total_timesteps}: allowed [0, inf)")
        return self.search(
            total_timesteps,
            self.settings["max_wall_seconds"],
            generations=10**9,
            max_cpu_seconds=self.settings["max_cpu_seconds"],
        )

    def save(self, path: str | Path) -> None:
        """Write the settings, the best candidate's genes, the budget and history as JSON."""
        record = {
            "class": type(self).__name__,
            "action_mode": self.action_mode,
            "settings": self.settings,
            "found": [int(g) for g in self.played_genes],
            "gene_names": list(self.family.gene_names),
            "budget": self.budget,
            "history": self.history,
        }
        Path(path).write_text(json.dumps(record, indent=2))

    @classmethod
    def load(
        cls, path: str | Path, env: Any = None, params: Params | None = None, **kwargs: Any
    ) -> CrossEntropySearchAgent:
        """Read an agent written by :meth:`save` (no search runs); it needs the env (or params)."""
        record = json.loads(Path(path).read_text())
        if record.get("class") != cls.__name__:
            raise ValueError(f"{path} holds a {record.get('class')}, not a {cls.__name__}")
        agent = cls(
            env,
            params=params,
            action_mode=None if env is not None else record["action_mode"],
            found=record["found"],
            **record["settings"],
        )
        agent.budget = dict(record["budget"])
        agent.history = list(record["history"])
        agent.best_score = float(record["budget"].get("best_train_return") or -np.inf)
        return agent

    def close(self) -> None:
        """Release the batched env used by the search."""
        for venv in (self._vector_env, self._validation_env):
            if venv is not None:
                venv.close()
        self._vector_env = self._validation_env = None


def _compile(venv: Any) -> None:
    """One step of ``venv``, so that numba compiles (or loads) its kernels before the clock;
    every rollout reseeds the env, so this step changes nothing."""
    venv.reset(seed=0)
    venv.step(np.zeros(venv.action_space.shape, dtype=venv.action_space.dtype))


def _env_model(env: Any) -> Any:
    """The core Model of a gymnasium env (for its reward function and personas), else None."""
    if env is None or not hasattr(env, "unwrapped"):
        return None
    return getattr(env.unwrapped, "model", None)


def _validate(settings: dict[str, Any]) -> None:
    """Raise a ValueError naming the setting and its allowed range."""

    def integer(key: str, low: int) -> int:
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{key} = {value!r}: allowed integers in [{low}, inf)")
        return int(value)

    def fraction(key: str) -> None:
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise ValueError(f"{key} = {value!r}: allowed (0, 1]")

    if settings["family"] not in FAMILIES:
        raise ValueError(f"family = {settings['family']!r}: allowed {list(FAMILIES)}")
    integer("population", 2)
    integer("generations", 1)
    integer("target_generations", 1)
    most = integer("max_train_seeds", 1)
    train_seeds = most if settings["train_seeds"] == AUTO else integer("train_seeds", 1)
    first = integer("first_train_seed", 0)
    validation = integer("validation_episodes", 0)
    validation_first = integer("validation_first_seed", 0)
    integer("quarter_step", 1)
    integer("seed", 0)
    fraction("elite_fraction")
    fraction("smoothing")
    if first + train_seeds > validation_first:
        raise ValueError(
            f"train seeds [{first}, {first + train_seeds - 1}] reach the validation seeds "
            f"(from {validation_first}): first_train_seed + train_seeds (max_train_seeds "
            f"with train_seeds=auto) allowed [1, {validation_first}]"
        )
    if validation_first + validation > EVALUATION_FIRST_SEED:
        raise ValueError(
            f"validation seeds from {validation_first} reach the evaluation seeds "
            f"(from {EVALUATION_FIRST_SEED}): validation_first_seed + validation_episodes "
            f"allowed [0, {EVALUATION_FIRST_SEED}]"
        )
    if settings["max_env_steps"] is not None:
        integer("max_env_steps", 1)
    for key in ("max_cpu_seconds", "max_wall_seconds"):
        limit = settings[key]
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int | float) or not limit > 0
        ):
            raise ValueError(f"{key} = {limit!r}: allowed (0, inf) or None")
