"""The trust boundary: load models, normalization statistics and replay buffers without
running code from the file, unless the user opts in.

An SB3 ``model.zip`` holds the policy weights (``policy.pth`` and other ``.pth``
files, which SB3 reads with ``torch.load(weights_only=True)``: tensors only) and
a JSON ``data`` entry. Entries of ``data`` that are not plain JSON (the policy
class, the spaces, schedules, buffers' classes) are stored as ``:serialized:``
cloudpickle blobs, and unpickling a blob runs whatever code it names. Likewise
SB3's ``VecNormalize.save`` and ``save_replay_buffer`` write pickles.

:func:`load_algorithm` reads a zip without unpickling anything: every pickled
entry is replaced by a value rebuilt from trusted sources (the env's spaces,
the run's YAML config, the class's own policy aliases, a ``ConstantSchedule``
read back from the entry's text); an entry it cannot rebuild is refused with
a message naming it and the opt-in flag (``trust=True``, ``trust=true`` on the
command line). The runs this project writes keep pickle-free copies beside the
pickles (``*vecnormalize.npz``, ``replay_buffer.npz``), which
:func:`load_vec_normalize` and :func:`load_replay_buffer` prefer.
"""

from __future__ import annotations

import inspect
import json
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: The opt-in named in every refusal.
TRUST_HINT = (
    "pickled Python objects run code when loaded; load them only from a source you trust, "
    "with trust=True (lepton-eval / lepton-compare / lepton-train: trust=true)"
)

#: Entries SB3 keeps for a running ``learn`` only; a loaded model starts without them.
RUNTIME_ENTRIES = (
    "_last_obs",
    "_last_episode_starts",
    "_last_original_obs",
    "ep_info_buffer",
    "ep_success_buffer",
    "action_noise",
)
#: Entries every algorithm rebuilds in ``_setup_model`` from plain JSON entries.
REBUILT_ENTRIES = ("lr_schedule", "exploration_schedule")
#: Buffer classes that SB3 and sb3-contrib pick by default when the entry is ``None``.
DEFAULT_BUFFERS = (
    "RolloutBuffer",
    "DictRolloutBuffer",
    "ReplayBuffer",
    "DictReplayBuffer",
    "MaskableRolloutBuffer",
    "MaskableDictRolloutBuffer",
    "RecurrentRolloutBuffer",
    "RecurrentDictRolloutBuffer",
)
#: Keyword arguments only ``learn`` uses, SB3 pickles and a run's config gives.
TRAINING_ONLY = ("train_freq", "target_entropy")
_CONSTANT = re.compile(r"^ConstantSchedule\(val=([-+0-9.eEinfa]+)\)$")
_INIT = re.compile(r"^<function (\w+)\.__init__ at ")


class UntrustedFileError(ValueError):
    """A file holds pickled objects and the user did not opt in to loading them."""


def read_zip_data(path: str | Path) -> dict[str, Any]:
    """The JSON ``data`` entry of an SB3 zip, unparsed blobs kept as they are."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "data" not in names or "policy.pth" not in names:
                raise ValueError(
                    f"{path}: not an SB3 model (entries {sorted(names)}; need data and policy.pth)"
                )
            data = json.loads(archive.read("data"))
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path}: not a readable zip file ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: its data entry is not a JSON object")
    return data


def pickled_entries(data: Mapping[str, Any]) -> list[str]:
    """Names of the ``:serialized:`` (cloudpickled) entries of an SB3 ``data`` mapping."""
    return [
        key for key, value in data.items() if isinstance(value, dict) and ":serialized:" in value
    ]


def _policy_class(cls: type, entry: Mapping[str, Any], policy: str | None) -> Any:
    """The policy class: the config's (a class or an alias), else the alias the entry's text names.

    The entry's text (``__module__`` and the ``__init__`` repr) is only compared
    with the algorithm's own ``policy_aliases``; nothing it names is imported.
    """
    if isinstance(policy, type):
        return policy  # a class the config named by its (checked) dotted path
    aliases: dict[str, Any] = dict(getattr(cls, "policy_aliases", {}))
    if isinstance(policy, str) and policy in aliases:
        return aliases[policy]
    match = _INIT.match(str(entry.get("__init__", "")))
    for candidate in aliases.values():
        if (
            match is not None
            and candidate.__module__ == entry.get("__module__")
            and candidate.__init__.__qualname__.split(".")[0] == match.group(1)
        ):
            return candidate
    return None


def _buffer_class(entry: Mapping[str, Any]) -> bool:
    """Whether the entry names one of SB3's default buffer classes (rebuilt from ``None``)."""
    module = str(entry.get("__module__", ""))
    match = _INIT.match(str(entry.get("__init__", "")))
    return (
        module.startswith(("stable_baselines3.", "sb3_contrib."))
        and match is not None
        and match.group(1) in DEFAULT_BUFFERS
    )


_MISSING = object()


def _substitute(
    cls: type,
    key: str,
    entry: Mapping[str, Any],
    data: Mapping[str, Any],
    spaces: Mapping[str, Any],
    known: Mapping[str, Any],
) -> Any:
    """A pickle-free value for one serialized entry, or ``_MISSING``."""
    if key == "policy_kwargs":
        return _policy_kwargs(cls, data, known)
    if key in known:
        return known[key]
    if key in spaces:
        return spaces[key]
    if key == "policy_class":
        found = _policy_class(cls, entry, known.get("policy"))
        return _MISSING if found is None else found
    if key in RUNTIME_ENTRIES:
        return None
    if key.endswith("buffer_class"):
        return None if _buffer_class(entry) else _MISSING
    if key in REBUILT_ENTRIES:
        from stable_baselines3.common.utils import ConstantSchedule

        rate = data.get("learning_rate", 0.0)
        return ConstantSchedule(float(rate) if isinstance(rate, int | float) else 0.0)
    schedule = _CONSTANT.match(str(entry.get("value_schedule", "")))
    if schedule is not None:
        # SB3's _setup_model wraps a float back into a FloatSchedule(ConstantSchedule).
        return float(schedule.group(1))
    if key == "target_entropy" and "action_space" in spaces:
        # SAC / TQC "auto": -dim(A) (Haarnoja et al. 2018), as their _setup_model computes it.
        return np.float32(-np.prod(spaces["action_space"].shape))
    if key in TRAINING_ONLY:
        # Used by learn only; a bare file gets the class default, a run its config's value.
        default = inspect.signature(cls).parameters.get(key)
        return _MISSING if default is None else default.default
    return _MISSING


def _policy_kwargs(cls: Any, data: Mapping[str, Any], known: Mapping[str, Any]) -> Any:
    """``policy_kwargs`` as the class's constructor builds them from the config's.

    A2C adds its RMSprop optimizer, QR-DQN its Adam epsilon, to the policy's
    keywords (classes, so SB3 pickles the entry): the library's own constructor,
    given the config's keywords and the file's plain JSON entries, rebuilds them.
    """
    if "policy_kwargs" not in known:
        return _MISSING
    parameters = inspect.signature(cls).parameters
    plain = {
        name: value
        for name, value in data.items()
        if name in parameters and not (isinstance(value, dict) and ":serialized:" in value)
    }
    settings = {**plain, **{k: v for k, v in known.items() if k in parameters}}
    settings.update(policy=known.get("policy", "MlpPolicy"), env=None, _init_setup_model=False)
    settings["policy_kwargs"] = dict(known["policy_kwargs"] or {})
    for name in ("device", "verbose", "seed", "tensorboard_log"):
        settings.pop(name, None)
    return cls(**settings).policy_kwargs


def load_algorithm(
    cls: Any,
    path: str | Path,
    *,
    env: Any = None,
    spaces: Mapping[str, Any] | None = None,
    known: Mapping[str, Any] | None = None,
    trust: bool = False,
    device: str = "cpu",
) -> Any:
    """``cls.load(path)`` with no code from the file run unless ``trust``.

    ``env`` (or ``spaces``: ``observation_space`` / ``action_space``) gives the
    spaces; ``known`` the values the run's config gives (``policy`` alias,
    ``policy_kwargs``, ``clip_range``, ``train_freq``, ``action_noise`` ...), which
    replace the pickled entries of the same name. Raises
    :class:`UntrustedFileError` naming the entries it could not rebuild.
    """
    from stable_baselines3.common.base_class import BaseAlgorithm

    keywords: dict[str, Any] = {"device": device}
    if env is not None:
        keywords["env"] = env
    if not (isinstance(cls, type) and issubclass(cls, BaseAlgorithm)):
        # A user's agent reads its own format; what its load runs is not ours to check.
        if not trust:
            raise UntrustedFileError(
                f"{path}: {getattr(cls, '__qualname__', cls)} is not an SB3 algorithm, so "
                f"its own load reads the file and may unpickle it: {TRUST_HINT}"
            )
        return cls.load(str(path), **({"env": env} if env is not None else {}))
    if trust:
        return cls.load(str(path), **keywords)
    data = read_zip_data(path)
    given = dict(spaces or {})
    if env is not None:
        given.setdefault("observation_space", env.observation_space)
        given.setdefault("action_space", env.action_space)
    known = dict(known or {})
    custom: dict[str, Any] = {}
    refused = []
    for key in pickled_entries(data):
        value = _substitute(cls, key, data[key], data, given, known)
        if value is _MISSING:
            refused.append(key)
        else:
            custom[key] = value
    if refused:
        raise UntrustedFileError(
            f"{path}: refusing to unpickle its entries {refused}: {TRUST_HINT}"
        )
    return cls.load(str(path), custom_objects=custom, **keywords)


# --------------------------------------------------------------------------- VecNormalize
def stats_path(pickle_path: str | Path) -> Path:
    """The pickle-free copy of ``<name>.pkl``: ``<name>.npz`` beside it."""
    return Path(pickle_path).with_suffix(".npz")


def save_vec_normalize(normalizer: Any, pickle_path: str | Path) -> None:
    """SB3's pickle (for ``VecNormalize.load``) and a pickle-free ``.npz`` of its statistics.

    The ``.npz`` holds the running means, variances and counts (``obs/<key>/...``
    for a Dict observation, ``obs/...`` for a Box) and the settings as JSON.
    """
    normalizer.save(str(pickle_path))
    arrays: dict[str, Any] = {}
    # SB3 keeps no observation statistics when it does not normalize observations.
    observation = normalizer.obs_rms if normalizer.norm_obs else {}
    parts = observation if isinstance(observation, dict) else {"": observation}
    for name, rms in parts.items():
        prefix = f"obs/{name}/" if name else "obs/"
        arrays[prefix + "mean"] = rms.mean
        arrays[prefix + "var"] = rms.var
        arrays[prefix + "count"] = np.float64(rms.count)
    arrays["ret/mean"] = normalizer.ret_rms.mean
    arrays["ret/var"] = normalizer.ret_rms.var
    arrays["ret/count"] = np.float64(normalizer.ret_rms.count)
    settings = {
        "norm_obs": bool(normalizer.norm_obs),
        "norm_reward": bool(normalizer.norm_reward),
        "clip_obs": float(normalizer.clip_obs),
        "clip_reward": float(normalizer.clip_reward),
        "gamma": float(normalizer.gamma),
        "epsilon": float(normalizer.epsilon),
        "norm_obs_keys": list(normalizer.norm_obs_keys or []) or None,
        "dict_observation": isinstance(observation, dict),
    }
    arrays["settings"] = np.asarray(json.dumps(settings))
    target = stats_path(pickle_path)
    partial = target.with_name(target.name + ".partial.npz")
    np.savez(partial, **arrays)
    partial.replace(target)


def load_vec_normalize(pickle_path: str | Path, venv: Any, trust: bool = False) -> Any:
    """A ``VecNormalize`` over ``venv`` from the ``.npz`` copy, else (with ``trust``) the pickle."""
    from stable_baselines3.common.vec_env import VecNormalize

    copy = stats_path(pickle_path)
    if copy.exists():
        with np.load(copy, allow_pickle=False) as saved:
            settings = json.loads(str(saved["settings"]))
            normalizer = VecNormalize(
                venv,
                norm_obs=settings["norm_obs"],
                norm_reward=settings["norm_reward"],
                clip_obs=settings["clip_obs"],
                clip_reward=settings["clip_reward"],
                gamma=settings["gamma"],
                epsilon=settings["epsilon"],
                norm_obs_keys=settings["norm_obs_keys"],
            )
            observation = normalizer.obs_rms if normalizer.norm_obs else {}
            parts = observation if isinstance(observation, dict) else {"": observation}
            for name, rms in parts.items():
                prefix = f"obs/{name}/" if name else "obs/"
                if prefix + "mean" not in saved:
                    raise ValueError(f"{copy}: no statistics {prefix}mean for this observation")
                rms.mean = saved[prefix + "mean"].copy()
                rms.var = saved[prefix + "var"].copy()
                rms.count = float(saved[prefix + "count"])
            normalizer.ret_rms.mean = saved["ret/mean"].copy()
            normalizer.ret_rms.var = saved["ret/var"].copy()
            normalizer.ret_rms.count = float(saved["ret/count"])
        return normalizer
    if not Path(pickle_path).exists():
        raise FileNotFoundError(f"{pickle_path} (and {copy.name}) do not exist")
    if not trust:
        raise UntrustedFileError(
            f"{pickle_path}: refusing to unpickle it (no pickle-free {copy.name} beside it): "
            f"{TRUST_HINT}"
        )
    return VecNormalize.load(str(pickle_path), venv)


# --------------------------------------------------------------------------- replay buffers
#: Array attributes of SB3's (Dict)ReplayBuffer that hold the transitions.
BUFFER_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def save_replay_buffer(buffer: Any, path: str | Path) -> None:
    """A replay buffer's transitions as ``.npz`` (``observations/<key>`` for Dict buffers)."""
    arrays: dict[str, Any] = {"pos": np.int64(buffer.pos), "full": np.bool_(buffer.full)}
    for name in BUFFER_ARRAYS:
        value = getattr(buffer, name, None)
        if isinstance(value, dict):
            for key, array in value.items():
                arrays[f"{name}/{key}"] = array
        elif value is not None:
            arrays[name] = value
    target = Path(path)
    partial = target.with_name(target.name + ".partial.npz")
    np.savez(partial, **arrays)
    partial.replace(target)


def load_replay_buffer(agent: Any, path: str | Path, trust: bool = False) -> None:
    """Fill ``agent.replay_buffer`` from ``.npz`` (shapes checked), else a trusted pickle."""
    target = Path(path)
    if target.suffix == ".pkl":
        if not trust:
            raise UntrustedFileError(f"{target}: refusing to unpickle it: {TRUST_HINT}")
        agent.load_replay_buffer(str(target))
        return
    buffer = agent.replay_buffer
    with np.load(target, allow_pickle=False) as saved:
        for name in BUFFER_ARRAYS:
            value = getattr(buffer, name, None)
            current = value if isinstance(value, dict) else {None: value}
            for key, array in current.items():
                if array is None:
                    continue
                stored = f"{name}/{key}" if key is not None else name
                if stored not in saved or saved[stored].shape != array.shape:
                    found = saved[stored].shape if stored in saved else "absent"
                    raise ValueError(
                        f"{target}: {stored} has shape {found}, the agent's buffer {array.shape}"
                    )
                array[...] = saved[stored]
        buffer.pos = int(saved["pos"])
        buffer.full = bool(saved["full"])
