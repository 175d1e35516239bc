"""``make_vec_env``: n batched environments as a Gymnasium ``VectorEnv`` or an SB3 ``VecEnv``.

>>> import lepton_env
>>> venv = lepton_env.make_vec_env("LeptonExpansion-v0", num_envs=8, scenario="toy", seed=0)
>>> observations = venv.reset()
>>> observations.shape[0]
8
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from lepton_env.envs.vector import LeptonExpansionVectorEnv

if TYPE_CHECKING:
    from lepton_env.envs.sb3_vec import LeptonExpansionVecEnv

Face = Literal["sb3", "gymnasium"]

#: Action mode of each registered id (the same table ``lepton_env`` registers).
ACTION_MODES = {
    "LeptonExpansion-v0": "multi_discrete",
    "LeptonExpansion-Single-v0": "discrete",
    "LeptonExpansion-Continuous-v0": "continuous",
}


def make_vec_env(
    env_id: str = "LeptonExpansion-v0",
    num_envs: int = 1,
    *,
    face: Face = "sb3",
    seed: int | None = None,
    **kwargs: Any,
) -> LeptonExpansionVecEnv | LeptonExpansionVectorEnv:
    """Build ``num_envs`` environments of ``env_id`` stepped as one batch.

    ``face="sb3"`` gives :class:`~lepton_env.envs.sb3_vec.LeptonExpansionVecEnv`
    (seeded ``seed + i`` at its first ``reset()``, as SB3's ``make_vec_env``);
    ``face="gymnasium"`` gives :class:`~lepton_env.envs.vector.LeptonExpansionVectorEnv`
    (seed it with ``reset(seed=...)``). ``kwargs`` are the single env's
    arguments (``scenario``, ``observation_mode``, any Params field, ...) and,
    per face, ``info_kpis`` (SB3) or ``autoreset_mode`` (Gymnasium).
    """
    if env_id not in ACTION_MODES:
        raise ValueError(f"env_id = {env_id!r}: allowed {sorted(ACTION_MODES)}")
    if "action_mode" in kwargs:
        raise ValueError("action_mode is set by env_id; choose the id instead")
    action_mode = ACTION_MODES[env_id]
    if face == "gymnasium":
        if seed is not None:
            raise ValueError("face='gymnasium' is seeded by reset(seed=...), not by seed=")
        return LeptonExpansionVectorEnv(num_envs, action_mode=action_mode, **kwargs)  # type: ignore[arg-type]
    if face == "sb3":
        from lepton_env.envs.sb3_vec import LeptonExpansionVecEnv

        venv = LeptonExpansionVecEnv(num_envs, action_mode=action_mode, **kwargs)  # type: ignore[arg-type]
        if seed is not None:
            venv.seed(seed)
        return venv
    raise ValueError(f"face = {face!r}: allowed 'sb3' or 'gymnasium'")
