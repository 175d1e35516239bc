"""Frozen copies of a learning policy: the self-play population's members.

A :class:`PolicySlot` is a population member whose parameters are a frozen copy
of the learner's policy at some step. The population is built once with
``max_snapshots`` slots (a :class:`~lepton_env.multi.population.Population` has
fixed members); a slot weighs 0 until it is filled, and when every slot is full
the oldest is overwritten (a ring). Overwriting takes effect at once: episodes
that drew the slot play on against the newer snapshot.

Slots are written as ``snapshot_<k>.npz`` (the policy's ``state_dict`` as arrays,
no pickle) with ``population.json`` (each slot's step, the ring's next slot).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np

from lepton_env.agents.population.common import Delegate

POPULATION_FILE = "population.json"


class PolicySlot(Delegate):
    """A population member played by a frozen copy of a policy (deterministic ``predict``)."""

    def __init__(self, name: str) -> None:
        super().__init__(None, masked=False)
        self.name = name
        self.step: int | None = None  # the learner's step of the copy (None: empty)

    @property
    def policy(self) -> Any:
        """The frozen copy (None until :meth:`bind`)."""
        return self.target

    def bind(self, template: Any) -> None:
        """Give the slot the architecture of ``template`` (a policy; weights come by fill)."""
        import inspect

        self.target = copy.deepcopy(template)
        self.target.set_training_mode(False)
        self.masked = "action_masks" in inspect.signature(self.target.predict).parameters

    def fill(self, policy: Any, step: int) -> None:
        """Copy ``policy``'s parameters into the slot."""
        self.policy.load_state_dict(policy.state_dict())
        self.step = step

    # ---------------------------------------------------------------- files
    def save(self, path: Path) -> None:
        arrays = {
            key: value.detach().cpu().numpy() for key, value in self.policy.state_dict().items()
        }
        np.savez(path, **arrays)

    def load(self, path: Path, step: int) -> None:
        import torch

        with np.load(path, allow_pickle=False) as arrays:
            state = {key: torch.from_numpy(arrays[key].copy()) for key in arrays.files}
        self.policy.load_state_dict(state)
        self.step = step


class SnapshotRing:
    """``size`` :class:`PolicySlot` of one policy, filled in turn; the next is :attr:`cursor`."""

    def __init__(self, size: int) -> None:
        self.slots = [PolicySlot(f"snapshot{k}") for k in range(size)]
        self.cursor = 0

    def bind(self, template: Any) -> None:
        """Every slot gets ``template``'s architecture (the learner's policy, once built)."""
        for slot in self.slots:
            slot.bind(template)

    @property
    def ids(self) -> list[str]:
        return [slot.name for slot in self.slots]

    def add(self, policy: Any, step: int) -> PolicySlot:
        slot = self.slots[self.cursor]
        slot.fill(policy, step)
        self.cursor = (self.cursor + 1) % len(self.slots)
        return slot

    def filled(self) -> list[PolicySlot]:
        return [slot for slot in self.slots if slot.step is not None]

    def save(self, folder: Path) -> None:
        for k, slot in enumerate(self.slots):
            if slot.step is not None:
                slot.save(folder / f"snapshot_{k}.npz")
        record = {"cursor": self.cursor, "steps": [slot.step for slot in self.slots]}
        (folder / POPULATION_FILE).write_text(json.dumps(record))

    def load(self, folder: Path) -> None:
        record = json.loads((folder / POPULATION_FILE).read_text())
        steps = record["steps"]
        if len(steps) != len(self.slots):
            raise ValueError(
                f"{folder / POPULATION_FILE} has {len(steps)} snapshot slots, the config "
                f"{len(self.slots)} (multiagent.opponents.max_snapshots)"
            )
        for k, (slot, step) in enumerate(zip(self.slots, steps, strict=True)):
            if step is not None:
                slot.load(folder / f"snapshot_{k}.npz", int(step))
        self.cursor = int(record["cursor"])
