"""Indexing follows PyTorch where it differs from NumPy: ints (and 0-d integer tensors) select
first, so ``x[0, :, i]`` keeps the ``:`` dimension in front (NumPy puts ``i``'s first);
``range`` indexes as a list; a ``uint8`` tensor is a (deprecated) mask. Each case is checked
by hand (the select-then-index reference in float64 NumPy) and against torch where installed:
the value, the gradient, ``x[index] = v``, vmap and forward mode.
"""

import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import func

SHAPE = (3, 4, 5)
I = [2, 0, 1]


def _x(shape=SHAPE):
    return np.arange(float(np.prod(shape))).reshape(shape)


def _weights(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# (name, shape of x, key builder on a module (gpugrad or torch), reference on NumPy x)
# The reference is PyTorch's rule spelled out: select with the int first, then index.
CASES = [
    ("x[0, :, i]", SHAPE, lambda m: (0, slice(None), m.tensor(I)),
     lambda a: a[0][:, I]),
    ("x[0, 1:3, i]", SHAPE, lambda m: (0, slice(1, 3), m.tensor(I)),
     lambda a: a[0][1:3, I]),
    ("x[1, ..., i]", SHAPE, lambda m: (1, Ellipsis, m.tensor(I)),
     lambda a: a[1][..., I]),
    ("x[0, None, :, i]", SHAPE, lambda m: (0, None, slice(None), m.tensor(I)),
     lambda a: a[0][None, :, I]),
    ("x[tensor(0), :, i]", SHAPE, lambda m: (m.tensor(0), slice(None), m.tensor(I)),
     lambda a: a[0][:, I]),
    ("x[0, :, mask]", SHAPE,
     lambda m: (0, slice(None), m.tensor([True, False, True, True, False])),
     lambda a: a[0][:, [0, 2, 3]]),
    ("x[:, 0, None, i]", SHAPE, lambda m: (slice(None), 0, None, m.tensor(I)),
     lambda a: a[:, 0][:, None, I]),
    ("x[:, i, :, 0]", (2, 3, 4, 5), lambda m: (slice(None), m.tensor([0, 2]), slice(None), 0),
     lambda a: a[..., 0][:, [0, 2], :]),
    ("x[1, :, i2d, 2]", (2, 3, 4, 5),
     lambda m: (1, slice(None), m.tensor([[0, 3], [1, 1]]), 2),
     lambda a: a[1][:, :, 2][:, [[0, 3], [1, 1]]]),
    ("x[1, :, i, j]", (2, 3, 4, 5),
     lambda m: (1, slice(None), m.tensor([0, 3]), m.tensor([[1], [2]])),
     lambda a: a[1][:, [0, 3], [[1], [2]]]),
    ("x[1, :, mask2d]", (2, 3, 4, 5),
     lambda m: (1, slice(None), m.tensor([[True, False, True, False, False]] * 4)),
     lambda a: a[1][:, [0, 0, 1, 1, 2, 2, 3, 3], [0, 2] * 4]),
    ("x[0, :, True]", SHAPE, lambda m: (0, slice(None), True),
     lambda a: a[0][:, None]),
    ("x[0, :, False]", SHAPE, lambda m: (0, slice(None), False),
     lambda a: a[0][:, None][:, :0]),
    # a bool next to an int and None/...: no index array carries their dimensions
    ("x[True, None, -1]", (3, 3), lambda m: (True, None, -1), lambda a: a[-1][True, None]),
    ("x[-1, None, True]", (3, 3), lambda m: (-1, None, True), lambda a: a[-1][None, True]),
    ("x[tensor(True), None, 0]", (3, 3), lambda m: (m.tensor(True), None, 0),
     lambda a: a[0][True, None]),
    ("x[True, ..., -1, :]", (3, 3), lambda m: (True, Ellipsis, -1, slice(None)),
     lambda a: a[-1][True, :]),
    ("x[..., -1, None, True]", (3, 3), lambda m: (Ellipsis, -1, None, True),
     lambda a: a[:, -1][..., None, True]),
    ("x[False, None, 1]", (3, 3), lambda m: (False, None, 1), lambda a: a[1][False, None]),
    # a ... that stands for no dimension does not separate the index arrays
    ("x[:, True, ..., [-3]]", (3, 3), lambda m: (slice(None), True, Ellipsis, [-3]),
     lambda a: a[:, True, [-3]]),
    ("x[None, [-3], [[0]], ..., range(2, 4)]", (3, 3, 4),
     lambda m: (None, [-3], [[0]], Ellipsis, range(2, 4)),
     lambda a: a[None, [-3], [[0]], [2, 3]]),
    ("x[:, i, ..., True, 0, j]", (3, 2, 4, 5),
     lambda m: (slice(None), [-1, -1, -2], Ellipsis, True, 0, [-4]),
     lambda a: a[:, :, 0][:, [-1, -1, -2], True, [-4]]),
    # unchanged: here NumPy and PyTorch agree
    ("x[0, i]", SHAPE, lambda m: (0, m.tensor(I)), lambda a: a[0][I]),
    ("x[0, i, :, j]", (2, 3, 4, 5), lambda m: (0, m.tensor([0, 1]), slice(None), m.tensor([3, 4])),
     lambda a: np.stack([a[0, 0, :, 3], a[0, 1, :, 4]])),
    ("x[i, :, 0]", SHAPE, lambda m: (m.tensor(I), slice(None), 0), lambda a: a[I][:, :, 0]),
    ("x[range(3), range(3)]", (3, 3), lambda m: (range(3), range(3)),
     lambda a: a[[0, 1, 2], [0, 1, 2]]),
    ("x[range(1, 3)]", (3, 3), lambda m: range(1, 3), lambda a: a[[1, 2]]),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, shape, key, reference", CASES, ids=IDS)
def test_value_gradient_and_setitem_follow_the_select_first_rule(name, shape, key, reference):
    a = _x(shape)
    want = reference(a)
    x = gpugrad.tensor(a, requires_grad=True)
    got = x[key(gpugrad)]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.numpy(), want)
    # the gradient: each upstream value lands on the element it was read from
    w = _weights(want.shape)
    (got * gpugrad.tensor(w)).sum().backward()
    positions = reference(np.arange(a.size).reshape(shape))
    grad = np.zeros(a.size)
    np.add.at(grad, positions.ravel(), w.ravel())
    np.testing.assert_allclose(x.grad.numpy(), grad.reshape(shape))
    # x[index] = v with a v of the indexed shape writes each value where it was read
    z = gpugrad.zeros(shape, dtype=gpugrad.float64)
    z[key(gpugrad)] = gpugrad.tensor(w)
    expected = np.zeros(a.size)
    expected[positions.ravel()] = w.ravel()
    if len(set(positions.ravel().tolist())) == positions.size:
        np.testing.assert_array_equal(z.numpy(), expected.reshape(shape))


def test_a_negative_step_slice_between_the_int_and_the_array():
    a = _x()
    x = gpugrad.tensor(a, requires_grad=True)
    got = x[0, ::-2, [4, 1]]
    np.testing.assert_array_equal(got.numpy(), a[0][::-2][:, [4, 1]])
    assert got.tolist() == [[a[0, 3, 4], a[0, 3, 1]], [a[0, 1, 4], a[0, 1, 1]]]
    got.sum().backward()
    expected = np.zeros(SHAPE)
    expected[0, [3, 1], 4] = expected[0, [3, 1], 1] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_in_place_add_through_the_index_and_forward_mode():
    a = _x()
    x = gpugrad.tensor(a)
    v = np.arange(12.0).reshape(4, 3)
    x[0, :, gpugrad.tensor(I)] += gpugrad.tensor(v)
    expected = a.copy()
    expected[0][:, I] += v
    np.testing.assert_array_equal(x.numpy(), expected)
    t = _weights(SHAPE, seed=1)
    out, tangent = func.jvp(lambda y: y[0, :, gpugrad.tensor(I)], (gpugrad.tensor(a),),
                            (gpugrad.tensor(t),))
    np.testing.assert_array_equal(tangent.numpy(), t[0][:, I])


def test_vmap_applies_the_rule_per_example():
    xs = _weights((2,) + SHAPE)
    js = np.array([[4, 1, 0], [2, 2, 3]])
    got = func.vmap(lambda r, j: r[0, :, j])(gpugrad.tensor(xs), gpugrad.tensor(js))
    np.testing.assert_array_equal(got.numpy(), np.stack([xs[b][0][:, js[b]] for b in range(2)]))
    got = func.vmap(lambda r: r[1, ..., gpugrad.tensor(I)])(gpugrad.tensor(xs))
    np.testing.assert_array_equal(got.numpy(), xs[:, 1][..., I])

    def write(r):
        r = r.clone()
        r[0, :, gpugrad.tensor(I)] = gpugrad.arange(12.0).double().reshape(4, 3)
        return r
    got = func.vmap(write)(gpugrad.tensor(xs))
    expected = xs.copy()
    for b in range(2):
        expected[b, 0][:, I] = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(got.numpy(), expected)


def test_a_uint8_tensor_is_a_deprecated_mask():
    x = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = gpugrad.tensor([1, 0, 1], dtype=gpugrad.uint8)
    with pytest.warns(UserWarning, match="uint8 is now deprecated") as record:
        got = x[mask]
    assert record[0].filename == __file__               # it points at the caller's line
    assert got.tolist() == [1.0, 3.0]
    got.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 1.0]
    z = gpugrad.zeros(3)
    with pytest.warns(UserWarning, match="uint8"):
        z[mask] = 5.0
    assert z.tolist() == [5.0, 0.0, 5.0]
    # an int8 tensor stays integer indices (as in PyTorch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x[gpugrad.tensor([1, 0, 1], dtype=gpugrad.int8)].tolist() == [2.0, 1.0, 2.0]


def test_a_numpy_uint8_array_is_a_deprecated_mask_too():
    # PyTorch takes a uint8 array as a uint8 tensor: a mask (OpenCV/PIL masks are uint8)
    a = _x((3, 4))
    x = gpugrad.tensor(a, requires_grad=True)
    mask = np.array([1, 0, 2], dtype=np.uint8)
    with pytest.warns(UserWarning, match="uint8 is now deprecated") as record:
        got = x[mask]
    assert record[0].filename == __file__
    np.testing.assert_array_equal(got.numpy(), a[[0, 2]])
    got.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0] * 4, [0.0] * 4, [1.0] * 4])
    z = gpugrad.zeros(3, 4)
    with pytest.warns(UserWarning, match="uint8") as record:
        z[:, np.array([0, 255, 0, 255], dtype=np.uint8)] = 7.0
    assert record[0].filename == __file__
    np.testing.assert_array_equal(z.numpy(), [[0.0, 7.0, 0.0, 7.0]] * 3)


def test_setitem_with_ranges():
    z = gpugrad.zeros(3, 3)
    z[range(3), range(3)] = 1.0
    np.testing.assert_array_equal(z.numpy(), np.eye(3))
    z[range(1, 3)] = 2.0
    assert z.numpy()[1:].tolist() == [[2.0] * 3] * 2
    assert gpugrad.zeros(4)[range(0)].shape == (0,)


def test_a_compiled_step_reads_the_index_of_each_call():
    x = gpugrad.tensor(_x())

    def step(i):
        return x[0, :, i] * 1.0

    compiled = gpugrad.compile(step)
    for i in ([2, 0, 1], [4, 4, 3], [0, 1, 2]):
        got = compiled(gpugrad.tensor(i))
        np.testing.assert_array_equal(got.numpy(), _x()[0][:, i])
    assert compiled.replays == 2


@pytest.mark.parametrize("name, shape, key, reference", CASES, ids=IDS)
def test_against_torch(name, shape, key, reference):
    torch = pytest.importorskip("torch")
    a = _x(shape)
    xt = torch.tensor(a, requires_grad=True)
    x = gpugrad.tensor(a, requires_grad=True)
    want, got = xt[key(torch)], x[key(gpugrad)]
    assert tuple(want.shape) == got.shape
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    w = _weights(tuple(want.shape))
    (want * torch.tensor(w)).sum().backward()
    (got * gpugrad.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    zt, z = torch.zeros(shape, dtype=torch.float64), gpugrad.zeros(shape, dtype=gpugrad.float64)
    zt[key(torch)] = torch.tensor(w)
    z[key(gpugrad)] = gpugrad.tensor(w)
    positions = reference(np.arange(a.size).reshape(shape))
    if len(set(positions.ravel().tolist())) == positions.size:
        np.testing.assert_array_equal(z.numpy(), zt.numpy())


def test_uint8_mask_and_vmap_against_torch():
    torch = pytest.importorskip("torch")
    a = _x((2, 3, 4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.tensor(a)[1, :, torch.tensor([1, 0, 1, 1], dtype=torch.uint8)]
        got = gpugrad.tensor(a)[1, :, gpugrad.tensor([1, 0, 1, 1], dtype=gpugrad.uint8)]
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    mask = np.array([1, 0, 2], dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.tensor(a)[:, mask]
        got = gpugrad.tensor(a)[:, mask]
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    js = np.array([[4, 1, 0], [2, 2, 3]])
    want = torch.func.vmap(lambda r, j: r[0, :, j])(torch.tensor(a), torch.tensor(js))
    got = func.vmap(lambda r, j: r[0, :, j])(gpugrad.tensor(a), gpugrad.tensor(js))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
