"""A policy that shares its weights across regions, so one network plays worlds of any size.

The MultiDiscrete face asks, each quarter, for one move per region and an R&D
level. The MLP policies read the flat observation as one vector, so their
weights are tied to the region count and to the regions' order. The
:class:`RegionSharedPolicy` applies the same network to every region instead
(a Deep Sets encoder, Zaheer et al. 2017), with the regions in context::

    e_r = phi(x_r)                                   region r's features -> (h,)
    g   = rho([mean_r e_r, max_r e_r, psi(x_firm)])  pooled context       -> (h,)
    z_r = mu([e_r, g])                               region r's move logits (moves,)
    z_L = W_L g                                      the R&D logits        (L,)
    V   = w_V g'                                     the value (its own phi', psi', rho')

``x_r`` is region r's row of the feature table (:data:`~lepton_env.features.REGION_FEATURES`,
and with rival firms their public state in that region), ``x_firm`` the firm's
features (:data:`~lepton_env.features.FIRM_FEATURES`, and with rivals the firm's
identity). Permuting the regions permutes the move logits and leaves the R&D
logits and the value unchanged; no weight depends on the region count, so a
state dict trained on one ``procedural`` world size loads into the policy of
another (``load_state_dict``). The actor and the critic have separate networks
of the same shape, as SB3's default ``net_arch`` gives the MLP policies.

The action distribution is
:class:`~lepton_env.agents.training.policies.PaddedMaskedMultiCategorical` (masked moves
get probability 0). It runs with MaskablePPO and, without
masks, with PPO, on the flat or the Dict observation (``env.observation_mode``)::

    policy: lepton_env.agents.training.shared_policy.RegionSharedPolicy
    policy_kwargs:
      net_arch: [64, 64]  # hidden widths of phi and psi; h is the last
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.type_aliases import Schedule
from torch import nn

from lepton_env.agents.training.policies import (
    MaskableMultiCategoricalPolicy,
    PaddedMaskedMultiCategorical,
)
from lepton_env.features import FIRM_FEATURES, REGION_FEATURES, RIVAL_FEATURES, observation_width

__all__ = ["RegionLayout", "RegionSharedNet", "RegionSharedPolicy", "RegionTableExtractor"]


@dataclass(frozen=True)
class RegionLayout:
    """Where each region's features lie in the flat observation, read from the spaces."""

    regions: int  # R
    firms: int  # F; 1 without rivals
    moves: int  # each region head's choices
    rnd_levels: int  # L, the R&D head's choices

    @property
    def region_width(self) -> int:
        """Features per region: the firm's table, then each rival's public state there."""
        return len(REGION_FEATURES) + (self.firms - 1) * len(RIVAL_FEATURES)

    @property
    def firm_width(self) -> int:
        """The firm's features, and with rivals its one-hot identity."""
        return len(FIRM_FEATURES) + (self.firms if self.firms > 1 else 0)

    @classmethod
    def from_spaces(
        cls, observation_space: spaces.Space, action_space: spaces.Space
    ) -> RegionLayout:
        """The layout of the env's spaces, or a ``ValueError`` saying what does not fit."""
        if not (isinstance(action_space, spaces.MultiDiscrete) and action_space.nvec.ndim == 1):
            raise ValueError(
                f"RegionSharedPolicy plays the MultiDiscrete face (env.action_mode=multi_discrete: "
                f"one move per region, then R&D); got action space {action_space}"
            )
        heads = [int(n) for n in action_space.nvec]
        if len(heads) < 2 or len(set(heads[:-1])) != 1:
            raise ValueError(
                f"action space {action_space}: expected one head per region, all of one size, "
                "then the R&D head"
            )
        move_heads, moves, rnd_levels = len(heads) - 1, heads[0], heads[-1]
        if isinstance(observation_space, spaces.Dict):
            regions, firms = (observation_space["regions"].shape or (0,))[0], 1
        elif isinstance(observation_space, spaces.Box) and len(observation_space.shape) == 1:
            regions, firms = _flat_layout(observation_space.shape[0], move_heads)
        else:
            raise ValueError(
                f"observation space {observation_space}: expected the flat Box or the Dict "
                "(env.observation_mode = flat | dict)"
            )
        if regions != move_heads:
            raise ValueError(
                f"the observation has {regions} regions, the action space {move_heads} move heads"
            )
        return cls(regions, firms, moves, rnd_levels)

    def split(self, flat: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """Flat observations ``(B, D)`` -> ``regions (B, R, region_width)`` and
        ``firm (B, firm_width)``."""
        batch, regions = flat.shape[0], self.regions
        own = regions * len(REGION_FEATURES)
        region_rows = flat[:, :own].reshape(batch, regions, len(REGION_FEATURES))
        firm = flat[:, own : own + len(FIRM_FEATURES)]
        if self.firms == 1:
            return region_rows, firm
        start = own + len(FIRM_FEATURES)
        end = start + (self.firms - 1) * regions * len(RIVAL_FEATURES)
        # (B, rivals, R, 3) -> (B, R, rivals * 3): each rival's state beside the region's row.
        rivals = flat[:, start:end].reshape(batch, self.firms - 1, regions, len(RIVAL_FEATURES))
        rivals = rivals.transpose(1, 2).reshape(batch, regions, -1)
        identity = flat[:, end:]
        return th.cat([region_rows, rivals], -1), th.cat([firm, identity], -1)


def _flat_layout(width: int, move_heads: int) -> tuple[int, int]:
    """``(R, F)`` of a flat observation of ``width`` (D): one firm, D = R F_region + F_firm;
    else with rivals, D = observation_width(R) + (F - 1)(3 R + 1) + 1, R the move heads."""
    own = width - len(FIRM_FEATURES)
    if own % len(REGION_FEATURES) == 0 and own // len(REGION_FEATURES) == move_heads:
        return own // len(REGION_FEATURES), 1
    rest = width - observation_width(move_heads) - 1
    per_rival = len(RIVAL_FEATURES) * move_heads + 1
    if rest > 0 and rest % per_rival == 0:
        return move_heads, 1 + rest // per_rival
    raise ValueError(
        f"observation width {width} fits no layout of {move_heads} regions (the action "
        "space's move heads), with or without rivals (lepton_env.features.observation_width)"
    )


class RegionTableExtractor(BaseFeaturesExtractor):
    """The flat observation, from the flat Box or the Dict (``regions`` then ``firm``;
    the Dict's ``action_mask`` is the distribution's business, not a feature)."""

    def __init__(self, observation_space: spaces.Space) -> None:
        if isinstance(observation_space, spaces.Dict):
            parts = [observation_space["regions"].shape, observation_space["firm"].shape]
        else:
            parts = [observation_space.shape]
        width = sum(int(np.prod(shape or ())) for shape in parts)
        super().__init__(observation_space, width)

    def forward(self, observations: Any) -> th.Tensor:
        if isinstance(observations, dict):
            regions = observations["regions"]
            return th.cat([regions.flatten(1), observations["firm"].flatten(1)], -1)
        return th.as_tensor(observations).flatten(1)


def _mlp(inputs: int, widths: list[int], activation: type[nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in widths:
        layers += [nn.Linear(inputs, width), activation()]
        inputs = width
    return nn.Sequential(*layers)


class _PooledRegions(nn.Module):
    """``(e (B, R, h), g (B, h))``: each region's embedding and the pooled context."""

    def __init__(self, layout: RegionLayout, widths: list[int], activation: type[nn.Module]):
        super().__init__()
        hidden = widths[-1]
        self.region_encoder = _mlp(layout.region_width, widths, activation)  # phi
        self.firm_encoder = _mlp(layout.firm_width, widths, activation)  # psi
        self.context = nn.Sequential(nn.Linear(3 * hidden, hidden), activation())  # rho

    def forward(self, regions: th.Tensor, firm: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        embedded = self.region_encoder(regions)
        # Mean and max are symmetric in the regions and blind to their count.
        pooled = [embedded.mean(1), embedded.amax(1), self.firm_encoder(firm)]
        return embedded, self.context(th.cat(pooled, -1))


class RegionSharedNet(nn.Module):
    """SB3's ``mlp_extractor`` slot: ``forward_actor`` gives the flat logits of every head
    (region-major moves, then R&D), ``forward_critic`` the critic's pooled context."""

    def __init__(self, layout: RegionLayout, widths: list[int], activation: type[nn.Module]):
        super().__init__()
        if not widths or any(int(width) < 1 for width in widths):
            raise ValueError(f"net_arch = {widths}: a non-empty list of positive layer widths")
        widths = [int(width) for width in widths]
        hidden = widths[-1]
        self.layout = layout
        self.actor = _PooledRegions(layout, widths, activation)
        self.critic = _PooledRegions(layout, widths, activation)
        # mu, the same for every region: a hidden layer on [e_r, g], its weights split
        # into the region's part and the context's, so W_g g is computed once per state.
        self.move_region = nn.Linear(hidden, hidden)
        self.move_context = nn.Linear(hidden, hidden, bias=False)
        self.move_activation = activation()
        self.move_out = nn.Linear(hidden, layout.moves)
        self.rnd_head = nn.Linear(hidden, layout.rnd_levels)
        self.latent_dim_pi = layout.regions * layout.moves + layout.rnd_levels
        self.latent_dim_vf = hidden

    def heads(self, features: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """``(move logits (B, R, moves), R&D logits (B, L))``."""
        embedded, context = self.actor(*self.layout.split(features))
        hidden = self.move_region(embedded) + self.move_context(context).unsqueeze(1)
        return self.move_out(self.move_activation(hidden)), self.rnd_head(context)

    def forward_actor(self, features: th.Tensor) -> th.Tensor:
        moves, rnd = self.heads(features)
        return th.cat([moves.flatten(1), rnd], -1)

    def forward_critic(self, features: th.Tensor) -> th.Tensor:
        return self.critic(*self.layout.split(features))[1]

    def forward(self, features: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)


class RegionSharedPolicy(MaskableMultiCategoricalPolicy):
    """Actor-critic whose networks are shared across regions (module docstring).

    :param net_arch: hidden widths of the region and firm encoders; the last is the
        embedding and context width ``h``
    :param use_sde: PPO's keyword; must be False (the actions are discrete)

    The other parameters are ``MaskableActorCriticPolicy``'s; the features extractor
    defaults to :class:`RegionTableExtractor` and is shared by actor and critic.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.Tanh,
        ortho_init: bool = True,
        features_extractor_class: type[BaseFeaturesExtractor] = RegionTableExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        use_sde: bool = False,
    ) -> None:
        if use_sde:
            raise ValueError("RegionSharedPolicy: use_sde=True has no meaning for discrete moves")
        self.layout = RegionLayout.from_spaces(observation_space, action_space)
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch=list(net_arch) if net_arch is not None else [64, 64],
            activation_fn=activation_fn,
            ortho_init=ortho_init,
            features_extractor_class=features_extractor_class,
            features_extractor_kwargs=features_extractor_kwargs,
            normalize_images=normalize_images,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
        )

    def _build_mlp_extractor(self) -> None:
        assert isinstance(self.net_arch, list), "net_arch: a list of layer widths"
        self.mlp_extractor = RegionSharedNet(  # type: ignore[assignment]
            self.layout, self.net_arch, self.activation_fn
        )

    def _build(self, lr_schedule: Schedule) -> None:
        layout = self.layout
        self.action_dist = PaddedMaskedMultiCategorical(
            [layout.moves] * layout.regions + [layout.rnd_levels]
        )
        self._build_mlp_extractor()
        assert isinstance(self.mlp_extractor, RegionSharedNet)
        # The network already gives the logits: no further layer between it and the heads.
        self.action_net = nn.Identity()
        self.value_net = nn.Linear(self.mlp_extractor.latent_dim_vf, 1)
        if self.ortho_init:
            # SB3's gains: sqrt(2) inside, 0.01 on the logit layers, 1 on the value.
            extractor: RegionSharedNet = self.mlp_extractor
            outputs = {extractor.move_out: 0.01, extractor.rnd_head: 0.01, self.value_net: 1.0}
            for module, gain in ((extractor, np.sqrt(2)), *outputs.items()):
                module.apply(partial(self.init_weights, gain=gain))
        self.optimizer = self.optimizer_class(
            self.parameters(),
            lr=lr_schedule(1),  # type: ignore[call-arg]
            **self.optimizer_kwargs,
        )
