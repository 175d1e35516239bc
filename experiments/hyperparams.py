"""Types and ranges of the agents' hyperparameters, checked before anything is built.

``agent.model`` holds the algorithm's keyword arguments. Each keyword SB3 and
sb3-contrib share a meaning for is typed and bounded here, whichever agent
uses it (a user's agent with a ``gamma`` is held to the same range); keywords
not listed are checked only against the class's signature.

Ranges follow the algorithms' definitions: a discount ``gamma`` in (0, 1]
(Sutton & Barto 2018, sec. 3.3), GAE's ``gae_lambda`` in [0, 1] (Schulman et al.
2016), PPO's ``clip_range`` epsilon > 0 (Schulman et al. 2017), Polyak ``tau``
in (0, 1], exploration rates in [0, 1]; rates, sizes and widths positive.
Every range has two ends and infinity is never inside one (``learning_rate=inf``
would train on NaNs; ``n_epochs=1e9`` would run until killed): the upper ends are
far above any published setting, and there to catch a typo or an overflow.
Booleans are ``true`` / ``false`` only, and ``activation_fn`` is a name
(``relu``, ``tanh``, ...) mapped to its ``torch.nn`` class by :func:`activation_class`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

INF = math.inf


class HyperparameterError(ValueError):
    """A hyperparameter has the wrong type or lies outside its range."""


@dataclass(frozen=True)
class Bound:
    """A number's type and interval; ``low_open`` / ``high_open`` exclude the end."""

    kind: type  # int or float (an int is accepted where a float is asked)
    low: float = -INF
    high: float = INF
    low_open: bool = False
    high_open: bool = False
    nullable: bool = False  # None allowed (e.g. clip_range_vf: no value clipping)
    also: tuple[Any, ...] = ()  # other accepted values (e.g. ent_coef "auto", gradient_steps -1)

    def describe(self) -> str:
        name = "an integer" if self.kind is int else "a number"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open or self.high == INF else "]"  # open at infinity
        low = "-inf" if self.low == -INF else _number(self.low)
        high = "inf" if self.high == INF else _number(self.high)
        extra = [repr(value) for value in self.also] + (["null"] if self.nullable else [])
        return f"{name} in {left}{low}, {high}{right}" + (
            f" or {', '.join(extra)}" if extra else ""
        )

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        if any(value == other and type(value) is type(other) for other in self.also):
            return True
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _positive(kind: type = float, high: float = INF) -> Bound:
    return Bound(kind, 0.0, high, low_open=True)


def _unit(low_open: bool = False) -> Bound:
    return Bound(float, 0.0, 1.0, low_open=low_open)


#: Upper ends: far above any published setting (SB3 zoo, Huang et al. 2022).
MAX_STEPS = 10**12  # env steps (timesteps, learning_starts, intervals)
MAX_BATCH = 2**24  # transitions in a rollout or minibatch
MAX_WIDTH = 2**16  # units in a layer

#: agent.model keyword -> its type and range.
BOUNDS: dict[str, Bound] = {
    "learning_rate": _positive(high=1.0),
    "gamma": _unit(low_open=True),
    "gae_lambda": _unit(),
    "clip_range": _positive(high=10.0),
    "clip_range_vf": Bound(float, 0.0, 1e6, low_open=True, nullable=True),
    "ent_coef": Bound(float, 0.0, 10.0, also=("auto",)),
    "vf_coef": Bound(float, 0.0, 100.0),
    "max_grad_norm": _positive(high=1e6),
    "target_kl": Bound(float, 0.0, 10.0, low_open=True, nullable=True),
    "n_steps": _positive(int, MAX_BATCH),
    "batch_size": _positive(int, MAX_BATCH),
    "n_epochs": _positive(int, 1000),
    "buffer_size": _positive(int, 10**9),
    "learning_starts": Bound(int, 0, MAX_STEPS),
    "tau": _unit(low_open=True),
    "gradient_steps": Bound(int, 1, 10**4, also=(-1,)),
    "target_update_interval": _positive(int, MAX_STEPS),
    "exploration_fraction": _unit(),
    "exploration_initial_eps": _unit(),
    "exploration_final_eps": _unit(),
    "policy_delay": _positive(int, 1000),
    "target_policy_noise": Bound(float, 0.0, 10.0),
    "target_noise_clip": Bound(float, 0.0, 10.0),
    "n_quantiles": _positive(int, 10**4),
    "top_quantiles_to_drop_per_net": Bound(int, 0, 10**4),
    "sde_sample_freq": Bound(int, -1, MAX_STEPS),
    "rms_prop_eps": _positive(high=1.0),
    "seed": Bound(int, 0, 2**32 - 1),
}
#: agent.model.policy_kwargs keyword -> its type and range.
POLICY_BOUNDS: dict[str, Bound] = {
    "lstm_hidden_size": _positive(int, MAX_WIDTH),
    "n_lstm_layers": _positive(int, 64),
    "log_std_init": Bound(float, -20.0, 20.0),
    "n_critics": _positive(int, 100),
}
BOOLEANS = ("normalize_advantage", "use_sde", "use_rms_prop", "optimize_memory_usage")
#: agent.model.policy_kwargs keywords that are booleans.
POLICY_BOOLEANS = (
    "ortho_init",
    "normalize_images",
    "share_features_extractor",
    "squash_output",
    "full_std",
    "use_expln",
    "shared_lstm",
    "enable_critic_lstm",
)
#: ``activation_fn`` names -> their ``torch.nn`` classes (imported only when building).
ACTIVATIONS = {
    "relu": "ReLU",
    "tanh": "Tanh",
    "elu": "ELU",
    "leaky_relu": "LeakyReLU",
    "gelu": "GELU",
    "silu": "SiLU",
    "selu": "SELU",
    "sigmoid": "Sigmoid",
    "softplus": "Softplus",
    "mish": "Mish",
    "identity": "Identity",
}


def activation_class(name: str) -> Any:
    """The ``torch.nn`` class of an ``activation_fn`` name (checked by the schema)."""
    from torch import nn

    if name not in ACTIVATIONS:
        raise HyperparameterError(
            f"policy_kwargs.activation_fn = {name!r}: must be one of {sorted(ACTIVATIONS)}"
        )
    return getattr(nn, ACTIVATIONS[name])


def with_activation_classes(model: Mapping[str, Any]) -> dict[str, Any]:
    """``agent.model`` with ``policy_kwargs.activation_fn`` given by name turned into its class."""
    resolved = dict(model)
    kwargs = resolved.get("policy_kwargs")
    if isinstance(kwargs, Mapping) and isinstance(kwargs.get("activation_fn"), str):
        resolved["policy_kwargs"] = {
            **kwargs,
            "activation_fn": activation_class(kwargs["activation_fn"]),
        }
    return resolved


def _fail(key: str, value: Any, allowed: str, agent: str) -> None:
    raise HyperparameterError(f"{key} = {value!r} (agent {agent!r}): must be {allowed}")


def _check_widths(key: str, value: Any, agent: str) -> None:
    """``net_arch``: a list of positive layer widths, or a mapping of such lists."""
    allowed = (
        f"a list of integer layer widths in [1, {MAX_WIDTH}], or a mapping of them (pi, vf, qf)"
    )
    lists = value.values() if isinstance(value, Mapping) else [value]
    for widths in lists:
        if not isinstance(widths, list | tuple):
            _fail(key, value, allowed, agent)
        for width in widths:
            if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= MAX_WIDTH:
                _fail(key, value, allowed, agent)


def _check_train_freq(key: str, value: Any, agent: str) -> None:
    allowed = "a positive integer or [positive integer, 'step' | 'episode']"
    if isinstance(value, list | tuple):
        if len(value) != 2 or value[1] not in ("step", "episode"):
            _fail(key, value, allowed, agent)
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STEPS:
        _fail(key, value, allowed, agent)


SPECIAL: dict[str, Callable[[str, Any, str], None]] = {"train_freq": _check_train_freq}


def check_hyperparameters(model: Mapping[str, Any], agent: str, where: str = "agent.model") -> None:
    """Check every listed keyword of ``agent.model``; raises :class:`HyperparameterError`."""
    for name, value in model.items():
        key = f"{where}.{name}"
        if name in BOUNDS:
            bound = BOUNDS[name]
            if not bound.accepts(value):
                _fail(key, value, bound.describe(), agent)
        elif name in BOOLEANS and not isinstance(value, bool):
            _fail(key, value, "true or false", agent)
        elif name in SPECIAL:
            SPECIAL[name](key, value, agent)
        elif name == "policy" and not isinstance(value, str):
            _fail(key, value, "a policy name such as 'MlpPolicy'", agent)
        elif name == "policy_kwargs" and value is not None:
            if not isinstance(value, Mapping):
                _fail(key, value, "a mapping of the policy's keywords", agent)
            for inner, item in value.items():
                inner_key = f"{key}.{inner}"
                if inner == "net_arch":
                    _check_widths(inner_key, item, agent)
                elif inner in POLICY_BOUNDS and not POLICY_BOUNDS[inner].accepts(item):
                    _fail(inner_key, item, POLICY_BOUNDS[inner].describe(), agent)
                elif inner in POLICY_BOOLEANS and not isinstance(item, bool):
                    _fail(inner_key, item, "true or false", agent)
                elif inner == "activation_fn" and not (
                    isinstance(item, str) and item in ACTIVATIONS
                ):
                    _fail(inner_key, item, f"one of {sorted(ACTIVATIONS)}", agent)
