"""Building custom worlds from existing ones: adding a region to a scenario's Params.

``add_region(params, name, like=..., **traits)`` appends one region to every
per-region field of :class:`~lepton_env.params.Params` (shape ``R``, ``RK`` or
``RP``). Traits not given are copied from the region named ``like``, so a
researcher states only what differs (say, Mexico's GDP-based market potential)
and inherits the rest from a comparable region. The result is ordinary,
validated Params: pass it as ``scenario=`` to ``gymnasium.make`` or to
:func:`lepton_env.make_params`. See docs/extending.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton_env.params import FIELDS, Params, ParamsError, check_names

#: Per-region fields and their shape code: ``R`` (one number), ``RK`` (one per
#: competitor slot) or ``RP`` (one per partner candidate).
REGION_FIELDS: dict[str, str] = {
    name: spec.metadata["shape"]
    for name, spec in FIELDS.items()
    if name != "region_names" and spec.metadata["shape"] in ("R", "RK", "RP")
}


def _width(params: Params, code: str) -> int:
    return {"R": 1, "RK": params.num_competitors, "RP": params.num_partners}[code]


def add_region(params: Params, name: str, *, like: str | None = None, **traits: Any) -> Params:
    """A copy of ``params`` with a region ``name`` appended after the existing ones.

    Args:
        params: The world to extend (e.g. ``make_params("global")``).
        name: The new region's name; must not be taken.
        like: A region of ``params`` whose traits fill every trait not given.
            Without it, every per-region field (``REGION_FIELDS``) must be given.
        **traits: Per-region fields for the new region: a number for ``R``
            fields (``market_potential=95.0``), ``K`` numbers for competitor
            fields (``competitor_quality=(0.8, 0.7, 0.6)``), ``P`` numbers for
            ``partner_quality_mean``.

    Raises:
        ParamsError: naming the field, for a taken name, an unknown ``like``, a
            trait that is not a per-region field, a missing trait, a trait of the
            wrong length, or a value outside the field's range.
    """
    if not isinstance(name, str) or not name:
        raise ParamsError(f"region name must be a non-empty str, got {name!r}")
    if name in params.region_names:
        raise ParamsError(f"region {name!r} already exists: {list(params.region_names)}")
    check_names(traits)
    not_regional = sorted(set(traits) - set(REGION_FIELDS))
    if not_regional:
        raise ParamsError(
            f"{not_regional[0]} is not a per-region field; set it for the whole world with "
            f"params.replace({not_regional[0]}=...) (per-region fields: {sorted(REGION_FIELDS)})"
        )
    if like is None:
        missing = sorted(set(REGION_FIELDS) - set(traits))
        if missing:
            raise ParamsError(
                f"region {name!r}: no value for {missing}; give them, or copy them from a "
                "region with like=<region name>"
            )
        template = None
    elif like not in params.region_names:
        raise ParamsError(f"like = {like!r} is not a region: allowed {list(params.region_names)}")
    else:
        template = params.region_names.index(like)

    columns: dict[str, Any] = {}
    for field_name, code in REGION_FIELDS.items():
        current = np.asarray(getattr(params, field_name))
        if field_name in traits:
            try:
                row = np.asarray(traits[field_name], dtype=np.float64)
            except (TypeError, ValueError) as error:
                raise ParamsError(
                    f"{field_name} for region {name!r}: expected numbers, "
                    f"got {traits[field_name]!r}"
                ) from error
            width = _width(params, code)
            if code == "R" and row.ndim != 0:
                raise ParamsError(f"{field_name} for region {name!r}: expected one number")
            if code != "R" and row.shape != (width,):
                raise ParamsError(
                    f"{field_name} for region {name!r}: expected {width} numbers "
                    f"({code[1]} = {width}), got shape {row.shape}"
                )
        else:
            row = current[template]
        columns[field_name] = np.concatenate([current, row[None, ...]], axis=0)
    return params.replace(region_names=(*params.region_names, name), **columns)
