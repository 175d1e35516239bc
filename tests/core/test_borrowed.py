"""``borrow``: a StructRef's fields through a plain pointer, without reference counts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from numba import njit
from numba.core import types
from numba.core.datamodel import default_manager
from numba.core.errors import TypingError
from numba.experimental import structref

from lepton_env.kernel.borrowed import Borrowed, borrow


@structref.register
class _PairType(types.StructRef):
    def preprocess_fields(self, fields: Any) -> Any:
        return tuple((name, types.unliteral(kind)) for name, kind in fields)


class _Pair(structref.StructRefProxy):
    pass


structref.define_proxy(_Pair, _PairType, ["scale", "values"])


@njit
def _scaled_sum(view: Any) -> float:
    total = 0.0
    for k in range(view.values.shape[0]):
        total += view.scale * view.values[k]
    return total


@njit
def _borrowed_sum(pair: Any) -> float:
    return _scaled_sum(borrow(pair))


@njit
def _double_through(pair: Any) -> None:
    view = borrow(pair)
    for k in range(view.values.shape[0]):
        view.values[k] *= 2.0


@njit
def _replace_values(pair: Any, values: Any) -> None:
    view = borrow(pair)
    view.values = values


def _pair() -> _Pair:
    return _Pair(1.5, np.array([1.0, 2.0, 4.0]))


def test_fields_read_through_a_borrowed_view_are_the_structs() -> None:
    # 1.5 * (1 + 2 + 4)
    assert _borrowed_sum(_pair()) == 10.5


def test_an_array_field_is_the_same_array_written_in_place() -> None:
    values = np.array([1.0, 2.0, 4.0])
    _double_through(_Pair(1.5, values))
    np.testing.assert_array_equal(values, [2.0, 4.0, 8.0])


def test_a_borrowed_view_has_no_reference_count() -> None:
    struct = _PairType([("scale", types.float64), ("values", types.float64[::1])])
    assert default_manager[struct].contains_nrt_meminfo()
    assert not default_manager[Borrowed(struct)].contains_nrt_meminfo()


def test_only_a_structref_can_be_borrowed() -> None:
    @njit
    def borrow_array(values: Any) -> Any:
        return borrow(values).scale

    with pytest.raises(TypingError):
        borrow_array(np.zeros(3))


def test_a_borrowed_view_cannot_replace_a_field() -> None:
    with pytest.raises(TypeError, match="cannot replace its field 'values'"):
        _replace_values(_pair(), np.zeros(3))
