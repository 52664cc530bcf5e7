"""Complex numbers in parts: real, imag, conj (conj_physical, resolve_conj), angle, polar,
complex(re, im), view_as_real and view_as_complex, as PyTorch's; ``t.real`` and ``t.imag`` are
properties of every tensor (installed here), ``t.is_conj()`` is False (conj is eager).

Their rules give PyTorch's complex gradients themselves (``complex_grad = OWN_RULES``; see
complex_node.py): for a real loss L of z, ``z.grad = dL/dRe(z) + i dL/dIm(z)``.

Example::

    >>> z = gpugrad.tensor([3 + 4j], requires_grad=True)
    >>> (z.real * 2 + z.imag).sum().backward(); z.grad
    tensor([2.+1.j], device='cpu', dtype=complex64)
"""

from __future__ import annotations

from ..tensor import Tensor
from .op_class import OWN_RULES
from .record import BROADCAST, Op, apply
from . import unary

__all__ = ["real", "imag", "conj", "conj_physical", "resolve_conj", "is_conj", "angle",
           "polar", "complex", "view_as_real", "view_as_complex"]   # (the views: complex_views)


def _complex_of(xp, dtype):
    return xp.result_type(dtype, xp.complex64)


def _viewed(xp, x, dtype):
    """``x.view(dtype)`` (the last axis reinterpreted), of a contiguous copy where the
    strides do not allow a view."""
    try:
        return x.view(dtype)
    except ValueError:
        return xp.ascontiguousarray(x).view(dtype)


def _parts_out(xp, re, im):
    """The complex array re + i im (broadcast; float32 parts give complex64)."""
    out = xp.empty(xp.broadcast_shapes(re.shape, im.shape), _complex_of(xp, re.dtype))
    out.real[...] = re
    out.imag[...] = im
    return out


class Real(Op):
    """The real part of a complex tensor (a view). Gradient: g itself, as complex."""

    view = True
    vmap = BROADCAST
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, x):
        return x.real

    @staticmethod
    def vjp(ctx, g):
        return unary.astype(g, ctx.dtypes[0])

    @staticmethod
    def jvp(ctx, t):
        return real(t)


class Imag(Op):
    """The imaginary part of a complex tensor (a view). Gradient: i g."""

    view = True
    vmap = BROADCAST
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, x):
        return x.imag

    @staticmethod
    def vjp(ctx, g):
        return unary.astype(g, ctx.dtypes[0]) * 1j

    @staticmethod
    def jvp(ctx, t):
        return imag(t) if t.dtype.kind == "c" else t * 0.0


class Conj(Op):
    """The complex conjugate (a copy: ``is_conj()`` is always False). Gradient: conj(g)."""

    vmap = BROADCAST
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, x):
        return xp.conj(x)

    @staticmethod
    def vjp(ctx, g):
        return conj(g)

    @staticmethod
    def jvp(ctx, t):
        return conj(t)


class Angle(Op):
    """The argument of each element, atan2(Im z, Re z); of a real tensor 0 or pi (with zero
    gradient). Gradient for complex z: g i z / |z|^2, 0 at z == 0 (as PyTorch's)."""

    save = "xs"
    vmap = BROADCAST
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, x):
        return xp.angle(x)

    @staticmethod
    def vjp(ctx, g):
        z = ctx.xs[0]
        if z.dtype.kind != "c":
            return g * 0.0
        a = unary._abs_or_one(z)
        return g * 1j * z / (a * a)

    @staticmethod
    def jvp(ctx, t):
        z = ctx.xs[0]
        if z.dtype.kind != "c":
            return t * 0.0
        a = unary._abs_or_one(z)
        return imag(conj(z) * t) / (a * a)


class Polar(Op):
    """``abs * (cos(angle) + i sin(angle))``. Gradients: Re(g) cos + Im(g) sin for abs,
    abs (Im(g) cos - Re(g) sin) for angle."""

    save = "xs"
    broadcasts = True
    vmap = BROADCAST
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, r, theta):
        return _parts_out(xp, r * xp.cos(theta), r * xp.sin(theta))

    @staticmethod
    def vjp(ctx, g):
        from .reduce import sum_to
        from .trigonometric import cos, sin
        r, theta = ctx.xs
        gr, gi = real(g), _imag_or_zero(g)
        c, s = cos(theta), sin(theta)
        return (sum_to(gr * c + gi * s, ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(r * (gi * c - gr * s), ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, tr, ttheta):
        from .trigonometric import cos, sin
        r, theta = ctx.xs
        c, s = cos(theta), sin(theta)
        a = tr if tr is not None else r * 0.0           # d|w| and |w| d(angle)
        b = r * ttheta if ttheta is not None else theta * 0.0
        return complex(c * a - s * b, s * a + c * b).expand(ctx.out_shape)


def _imag_or_zero(g):
    return imag(g) if g.dtype.kind == "c" else g * 0.0


class Complex(Op):
    """``re + i im`` from two real tensors (broadcast). Gradients: Re(g) and Im(g)."""

    broadcasts = True
    vmap = BROADCAST
    complex_grad = OWN_RULES

    @staticmethod
    def forward(xp, re, im):
        return _parts_out(xp, re, im)

    @staticmethod
    def vjp(ctx, g):
        from .reduce import sum_to
        return (sum_to(real(g), ctx.shapes[0]) if ctx.needs(0) else None,
                sum_to(_imag_or_zero(g), ctx.shapes[1]) if ctx.needs(1) else None)

    @staticmethod
    def jvp(ctx, tre, tim):
        like = tre if tre is not None else tim
        zero = like * 0.0
        out = apply(Complex, zero if tre is None else tre, zero if tim is None else tim)
        return out.expand(ctx.out_shape)


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

def _is_complex(x) -> bool:
    return x.dtype.kind == "c"


def real(input):
    """The real part, as ``torch.real``: (...) complex -> (...) real (a view); a real tensor
    is returned as it is.

    Example::

        >>> gpugrad.real(gpugrad.tensor([1 + 2j])).tolist()
        [1.0]
    """
    return apply(Real, input) if _is_complex(input) else input


def imag(input):
    """The imaginary part, as ``torch.imag``: (...) complex -> (...) real (a view).

    Example::

        >>> gpugrad.imag(gpugrad.tensor([1 + 2j])).tolist()
        [2.0]
    """
    if not _is_complex(input):
        raise RuntimeError(f"imag is not implemented for tensors with non-complex dtypes "
                           f"(this one is {input.dtype}); a real tensor's imaginary part is "
                           f"zero: use gpugrad.zeros_like(x)")
    return apply(Imag, input)


def conj(input):
    """The complex conjugate, as ``torch.conj`` (computed at once: ``is_conj()`` is False);
    a real tensor is returned as it is. (...) -> (...).

    Example::

        >>> gpugrad.conj(gpugrad.tensor([1 + 2j])).tolist()
        [(1-2j)]
    """
    return apply(Conj, input) if _is_complex(input) else input


def conj_physical(input):
    """``conj``, as ``torch.conj_physical`` (gpugrad's conjugate is always materialized)."""
    return conj(input)


def resolve_conj(input):
    """``input`` itself, as ``torch.resolve_conj`` of a tensor whose conj bit is unset (in
    gpugrad it never is: ``conj`` computes the conjugate)."""
    return input


def is_conj(input) -> bool:
    """False: gpugrad has no lazy conjugate views (``torch.is_conj``)."""
    return False


def angle(input):
    """The argument of each element in radians, as ``torch.angle``: (...) -> (...) real;
    for a real tensor 0 where x >= 0 and pi where x < 0 (with zero gradient).

    Example::

        >>> [round(a, 4) for a in gpugrad.angle(gpugrad.tensor([1j, -1.0 + 0j])).tolist()]
        [1.5708, 3.1416]
    """
    if input.dtype.kind not in "fc":
        input = unary.astype(input, "float32")
    return apply(Angle, input)


def _check_parts(name: str, a, b, what: str) -> None:
    if a.dtype.kind != "f" or a.dtype != b.dtype:
        raise TypeError(f"{name}: {what} must be real floating tensors of one dtype, got "
                        f"{a.dtype} and {b.dtype}; convert them, e.g. b.to(a.dtype)")


def polar(abs, angle):
    """The complex tensor with magnitude ``abs`` and argument ``angle``, as ``torch.polar``:
    two real tensors (broadcast) -> complex (float32 parts give complex64).

    Example::

        >>> gpugrad.polar(gpugrad.tensor([2.0]), gpugrad.tensor([0.0])).tolist()
        [(2+0j)]
    """
    _check_parts("polar", abs, angle, "abs and angle")
    return apply(Polar, abs, angle)


def complex(real, imag):
    """``real + i imag`` from two real tensors (broadcast), as ``torch.complex``.

    Example::

        >>> gpugrad.complex(gpugrad.tensor([1.0]), gpugrad.tensor([2.0])).tolist()
        [(1+2j)]
    """
    _check_parts("complex", real, imag, "real and imag")
    return apply(Complex, real, imag)


def _real_property(self):
    return real(self)


def _imag_property(self):
    return imag(self)


METHODS = {
    "real": property(_real_property, doc="The real part (a view; the tensor itself if "
                                         "real), as PyTorch's ``t.real``."),
    "imag": property(_imag_property, doc="The imaginary part of a complex tensor (a view), "
                                         "as PyTorch's ``t.imag``."),
    "conj": conj, "conj_physical": conj_physical, "resolve_conj": resolve_conj,
    "is_conj": is_conj, "angle": angle,
}

for _name, _method in METHODS.items():       # (this module's Tensor methods, installed once)
    setattr(Tensor, _name, _method)


from .complex_views import view_as_complex, view_as_real  # noqa: E402  (they use _viewed)
