"""A StructRef read through a plain pointer, so passing it around counts no references.

Numba reference-counts a StructRef (an atomic increment and decrement of its
meminfo) each time it is bound to a new name: every argument of an inlined
phase of the compiled quarter, every argument of a call. Its optimizer prunes
the pairs it can prove redundant, not those around loops and early exits. In
:func:`lepton_env.kernel.quarter._step_env` these counts on the parameters, the states
and the step's work were most of a region's reference counts: borrowing them cut
the 77 atomic operations of a `global` region to 24.

``borrow(ref)`` gives the same fields through a pointer to the struct's data.
It holds no reference: the caller keeps ``ref`` alive for as long as the
borrowed view is used (a call that takes it and returns). Fields are read
exactly as a StructRef's are (an array field is the same array, writable in
place), but a borrowed view cannot replace a field.
"""

from __future__ import annotations

from typing import Any

from numba.core import cgutils, imputils, types
from numba.core.datamodel import models
from numba.core.datamodel.registry import register_default
from numba.core.extending import (
    infer_getattr,
    intrinsic,
    lower_getattr_generic,
    lower_setattr_generic,
)
from numba.core.typing.templates import AttributeTemplate
from numba.experimental.structref import _Utils


class Borrowed(types.Type):
    """The numba type of ``borrow(ref)`` for a StructRef type ``struct``."""

    def __init__(self, struct: types.StructRef) -> None:
        self.struct = struct
        super().__init__(name=f"Borrowed({struct})")


@register_default(Borrowed)
class _BorrowedModel(models.OpaqueModel):
    """A pointer to the struct's data: no meminfo, so nothing to count."""


@infer_getattr
class _BorrowedAttributes(AttributeTemplate):
    key = Borrowed

    def generic_resolve(self, typ: Borrowed, attr: str) -> Any:  # type: ignore[override]
        return typ.struct.field_dict.get(attr)


@lower_getattr_generic(Borrowed)
def _borrowed_getattr(context: Any, builder: Any, typ: Borrowed, value: Any, attr: str) -> Any:
    data_type = typ.struct.get_data_type()
    layout = context.data_model_manager[data_type].get_value_type()
    pointer = builder.bitcast(value, layout.as_pointer())
    data = cgutils.create_struct_proxy(data_type)(context, builder, ref=pointer)
    field = typ.struct.field_dict[attr]
    return imputils.impl_ret_borrowed(context, builder, field, getattr(data, attr))


@lower_setattr_generic(Borrowed)
def _borrowed_setattr(context: Any, builder: Any, signature: Any, args: Any, attr: str) -> Any:
    raise TypeError(
        f"a borrowed view cannot replace its field {attr!r}: it holds no reference to keep "
        "the old value or the new one alive; set the field on the StructRef itself"
    )


def _borrow(typingctx: Any, ref: Any) -> Any:
    if not isinstance(ref, types.StructRef):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        pointer = _Utils(context, builder, ref).get_data_pointer(args[0])
        return builder.bitcast(pointer, cgutils.voidptr_t)

    return Borrowed(ref)(ref), codegen


#: ``borrow(ref)``: a reference-free view of the StructRef ``ref`` (see the module docstring).
borrow: Any = intrinsic(_borrow)
