"""Creation, random and dtype names as PyTorch 2.13 spells them: keyword names (steps=, end=,
size=), arange's dtype inference, the legacy ``Tensor(2, 3)`` constructor, dtype aliases,
finfo/iinfo, Size, set_default_dtype, Generator, randperm, normal, bernoulli, multinomial.

Random values are not PyTorch's (another generator): their shapes, dtypes, reproducibility
and errors are checked exactly, their distributions statistically under fixed seeds (bounds
of 5 standard errors or more, so a correct sampler fails about once in a million runs).
"""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad import creation_like


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _same(ours, theirs):
    """Values, dtype name and shape of a gpugrad tensor against a torch one."""
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


# ----------------------------------------------------------------------------- keywords
@pytest.mark.parametrize("call", [
    "linspace(0, 1, steps=5)", "linspace(start=-1, end=1, steps=3)", "linspace(2, 3, 1)",
    "linspace(0, 10, 5, dtype=X.int64)", "linspace(-10, 0, 4, dtype=X.int64)",
    "linspace(0, -1, 5, dtype=X.int64)", "linspace(-7, 7, 6, dtype=X.int32)",
    "linspace(-3, 2, 7, dtype=X.int16)", "logspace(0, 2, 3)", "logspace(0, 3, 4, base=2)",
    "logspace(start=-1, end=1, steps=3, dtype=X.float64)",
    "arange(0, end=5)", "arange(start=1, end=5, step=2)", "arange(end=3)", "arange(5)",
    "arange(5.)", "arange(1., 0., -0.3)", "arange(0, 3.5, 1, dtype=X.int64)",
    "arange(X.tensor(4))", "arange(X.tensor(1), X.tensor(7), X.tensor(2))",
    "arange(X.tensor(4.))", "arange(np.int64(3))", "arange(np.float32(2.5))",
    "full(size=(2,), fill_value=1.)", "empty_like(X.ones(2, 3, dtype=X.int64)) * 0",
    "zeros_like(input=X.ones(2))", "ones(1, dtype=X.int64).new_zeros(size=(2,))",
    "ones(1).new_ones(size=[2, 1])", "ones(1).new_empty(size=(0, 3))",
    "tensor([2**63 - 1, -2**63])",
])
def test_factories_match_torch(torch, call):
    ours = eval(call, {"X": gpugrad, "np": np}, dict(vars(gpugrad)))
    theirs = eval(call, {"X": torch, "np": np}, dict(vars(torch)))
    _same(ours, theirs)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_keyword_and_forms(name):
    make = getattr(gpugrad, name)
    for args, kwargs in [((2, 3), {}), (((2, 3),), {}), (([2, 3],), {}),
                         ((), {"size": (2, 3)}), ((), {"size": [2, 3]}),
                         ((gpugrad.Size([2, 3]),), {}), ((np.int64(2), 3), {})]:
        assert make(*args, **kwargs).shape == (2, 3)
    with pytest.raises(TypeError, match="not both"):
        make(2, size=(2,))
    with pytest.raises(ValueError, match="non-negative"):
        make(-1)


def test_hand_values():
    assert gpugrad.linspace(0, 1, steps=5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert gpugrad.logspace(0, 3, 4, base=2).tolist() == [1.0, 2.0, 4.0, 8.0]
    assert gpugrad.arange(0, 3.5, 1, dtype=gpugrad.int64).tolist() == [0, 1, 2]  # truncated
    # arange(lengths.max()): the usual sequence mask
    lengths = gpugrad.tensor([2, 4, 3])
    steps = gpugrad.arange(lengths.max())
    assert steps.dtype == np.int64
    mask = steps[None, :] < lengths[:, None]
    assert mask.numpy().sum(1).tolist() == [2, 4, 3]
    assert gpugrad.arange(0.0, 1.0).dtype == np.float32
    assert gpugrad.empty_like(gpugrad.zeros(2, dtype=gpugrad.float64)).dtype == np.float64
    # integer linspace truncates float64 values toward zero: -10 + k * 10 / 3, 0 - k / 4
    assert gpugrad.linspace(-10, 0, 4, dtype=gpugrad.int64).tolist() == [-10, -6, -3, 0]
    assert gpugrad.linspace(0, -1, 5, dtype=gpugrad.int64).tolist() == [0, 0, 0, 0, -1]
    x = gpugrad.ones(1, dtype=gpugrad.int32)
    assert x.new_zeros(size=(2,)).tolist() == [0, 0] and x.new_zeros(size=(2,)).dtype == np.int32
    assert x.new_ones(size=[1, 2]).tolist() == [[1, 1]] and x.new_empty(size=(3,)).shape == (3,)


@pytest.mark.parametrize("data", [[2 ** 63], 2 ** 63, [-2 ** 63 - 1], [2 ** 64], [[2 ** 63]],
                                  [True, 2 ** 63], [1, 2 ** 63], [[-1], [2 ** 63]]])
def test_ints_beyond_int64_overflow(torch, data):
    with pytest.raises(ValueError, match="Overflow"):
        torch.tensor(data)
    with pytest.raises(ValueError, match="Overflow"):
        gpugrad.tensor(data)


def test_ints_beyond_int64_by_hand():
    for data in ([2 ** 63], 2 ** 63, [[1], [2 ** 64]], [-2 ** 63 - 1], [1, 2 ** 63]):
        with pytest.raises(ValueError, match="does not fit int64"):
            gpugrad.tensor(data)
    assert gpugrad.tensor([2 ** 63 - 1, -2 ** 63]).tolist() == [2 ** 63 - 1, -2 ** 63]
    assert gpugrad.tensor([1.0, 2 ** 63]).dtype == np.float32       # a float: a float tensor
    assert gpugrad.tensor([np.uint64(2 ** 63)]).dtype == np.uint64  # a typed NumPy int stays
    assert gpugrad.tensor([float("nan"), 1]).numpy()[1] == 1.0
    with pytest.raises(TypeError, match="not both"):
        gpugrad.ones(1).new_zeros(2, size=(2,))


@pytest.mark.parametrize("call, error, match", [
    ("linspace(0, 1, 2.5)", TypeError, "steps must be an int"),
    ("linspace(0, 1, -1)", ValueError, "non-negative"),
    ("arange(0, 5, 0)", ValueError, "step must be nonzero"),
    ("arange(X.ones(2))", TypeError, "one-element tensor"),
    ("arange('3')", TypeError, "real number"),
    ("linspace(0, 1, num=5)", TypeError, "num"),
])
def test_factory_errors(call, error, match):
    with pytest.raises(error, match=match):
        eval(call, {"X": gpugrad}, dict(vars(gpugrad)))


# ----------------------------------------------------------------------------- legacy Tensor
@pytest.mark.parametrize("args, dtype, shape, values", [
    (([1, 2],), "float32", (2,), [1.0, 2.0]),
    ((2, 3), "float32", (2, 3), None),
    ((np.int64(2),), "float32", (2,), None),
    ((), "float32", (0,), []),
    (((2, 3),), "float32", (2,), [2.0, 3.0]),          # a tuple is data, as in PyTorch
    ((np.array([1, 2]),), "float32", (2,), [1.0, 2.0]),
])
def test_legacy_constructor(args, dtype, shape, values):
    for make in (creation_like.legacy_tensor, gpugrad.Tensor):
        t = make(*args)
        assert (str(t.dtype), t.shape) == (dtype, shape)
        if values is not None:
            assert t.tolist() == values
        assert isinstance(t, gpugrad.Tensor)


def test_legacy_constructor_torch(torch):
    for args in [([1, 2],), (2, 3), ((2, 3),), (torch.Size([2, 3]),)]:
        ours_args = tuple(gpugrad.Size(a) if isinstance(a, torch.Size) else a for a in args)
        theirs = torch.Tensor(*args)
        ours = gpugrad.Tensor(*ours_args)
        assert (str(ours.dtype), ours.shape) == (str(theirs.dtype)[6:], tuple(theirs.shape))
    assert gpugrad.Tensor(gpugrad.arange(2)).dtype == np.int64     # a tensor keeps its dtype


@pytest.mark.parametrize("args, error", [((2.5,), TypeError), ((True,), TypeError),
                                         ((2, [3]), TypeError), ((-1,), ValueError)])
def test_legacy_constructor_errors(args, error):
    with pytest.raises(error):
        gpugrad.Tensor(*args)


# ----------------------------------------------------------------------------- dtypes
ALIASES = ["float", "double", "half", "long", "int", "short", "bool", "cfloat", "cdouble",
           "complex64", "complex128", "float16", "float32", "float64", "int8", "int16",
           "int32", "int64", "uint8"]


@pytest.mark.parametrize("name", ALIASES)
def test_dtype_aliases(torch, name):
    assert str(getattr(gpugrad, name)) == str(getattr(torch, name)).replace("torch.", "")
    assert gpugrad.zeros(1, dtype=getattr(gpugrad, name)).dtype == getattr(gpugrad, name)


def test_dtype_aliases_by_hand():
    assert gpugrad.long == np.int64 and gpugrad.int == np.int32 and gpugrad.float == np.float32
    assert gpugrad.tensor([1.5]).to(gpugrad.double).dtype == np.float64
    assert gpugrad.tensor([1 + 2j]).dtype == np.complex64        # beside float32, as PyTorch
    with pytest.raises(TypeError, match="NumPy has no bfloat16"):
        gpugrad.zeros(1, dtype=gpugrad.bfloat16)


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo(torch, name):
    ours, theirs = gpugrad.finfo(getattr(gpugrad, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution",
                  "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
        assert type(getattr(ours, field)) is type(getattr(theirs, field)), field


def test_finfo_iinfo_by_hand():
    f = gpugrad.finfo()                                  # the default float dtype
    assert f.eps == 2.0 ** -23 and f.bits == 32 and f.tiny == 2.0 ** -126
    assert gpugrad.finfo(gpugrad.float64).eps == 2.0 ** -52
    i = gpugrad.iinfo(gpugrad.int64)
    assert (i.min, i.max, i.bits) == (-2 ** 63, 2 ** 63 - 1, 64)
    with pytest.raises(TypeError, match="iinfo"):
        gpugrad.finfo(gpugrad.int64)
    with pytest.raises(TypeError, match="integer dtype"):
        gpugrad.iinfo(gpugrad.bool)
    with pytest.raises(TypeError, match="finfo"):
        gpugrad.iinfo(gpugrad.float32)


@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8"])
def test_iinfo(torch, name):
    ours, theirs = gpugrad.iinfo(getattr(gpugrad, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min,
                                                           theirs.max, theirs.dtype)


def test_size_and_device():
    s = gpugrad.Size([2, 3])
    assert s == (2, 3) and s.numel() == 6 and gpugrad.Size().numel() == 1
    assert gpugrad.ones(6).view(s).shape == (2, 3)
    with pytest.raises(TypeError, match="ints"):
        gpugrad.Size([2.0])
    dev = gpugrad.device("cpu")
    assert gpugrad.zeros(1, device=dev).device == "cpu" and dev.type == "cpu"


def test_is_floating_point():
    assert gpugrad.is_floating_point(gpugrad.zeros(1, dtype=gpugrad.half))
    assert not gpugrad.is_floating_point(gpugrad.arange(2))
    assert gpugrad.zeros(1).is_floating_point()
    with pytest.raises(TypeError):
        gpugrad.is_floating_point(1.0)


@pytest.fixture
def float64_default():
    gpugrad.set_default_dtype(gpugrad.float64)
    try:
        yield
    finally:
        gpugrad.set_default_dtype(gpugrad.float32)


def test_set_default_dtype(float64_default, torch):
    made = [gpugrad.tensor([1.5]), gpugrad.zeros(2), gpugrad.arange(0.0, 1.0),
            gpugrad.rand(2), gpugrad.linspace(0, 1, 3), gpugrad.arange(3) * 0.5,
            gpugrad.Tensor([1, 2]), gpugrad.nn.Linear(2, 3).weight]
    assert [str(t.dtype) for t in made] == ["float64"] * len(made)
    assert gpugrad.tensor([1j]).dtype == np.complex128 and gpugrad.finfo().bits == 64
    assert gpugrad.get_default_dtype() == np.float64
    with pytest.raises(TypeError, match="floating-point"):
        gpugrad.set_default_dtype(gpugrad.int64)
    assert gpugrad.get_default_dtype() == np.float64           # unchanged by the refusal


def test_default_dtype_restored():
    assert gpugrad.get_default_dtype() == np.float32 and gpugrad.zeros(1).dtype == np.float32


# ----------------------------------------------------------------------------- seeds
def test_manual_seed_forms():
    a = (gpugrad.manual_seed(np.int64(3)), gpugrad.rand(4).numpy())
    assert a[0] is gpugrad.default_generator and gpugrad.initial_seed() == 3
    gpugrad.manual_seed(3.0)                                    # integral floats, as torch
    np.testing.assert_array_equal(gpugrad.rand(4).numpy(), a[1])
    gpugrad.manual_seed(-1)
    assert gpugrad.initial_seed() == 2 ** 64 - 1               # wraps, as torch
    for bad, error in [(3.5, TypeError), ("3", TypeError), (True, TypeError),
                       (2 ** 64, ValueError)]:
        with pytest.raises(error):
            gpugrad.manual_seed(bad)


def test_seed_is_fresh():
    s = gpugrad.seed()
    assert isinstance(s, int) and gpugrad.initial_seed() == s and 0 <= s < 2 ** 64
    assert gpugrad.seed() != s


def test_fork_rng():
    gpugrad.manual_seed(5)
    state = gpugrad.get_rng_state()
    with gpugrad.random.fork_rng():
        gpugrad.randn(3)
    assert gpugrad.get_rng_state() == state


# ----------------------------------------------------------------------------- generators
DRAWS = {
    "rand": lambda g: gpugrad.rand(5, generator=g),
    "randn": lambda g: gpugrad.randn(size=(5,), generator=g),
    "randint": lambda g: gpugrad.randint(0, 100, (5,), generator=g),
    "randperm": lambda g: gpugrad.randperm(20, generator=g),
    "normal": lambda g: gpugrad.normal(0.0, 1.0, (5,), generator=g),
    "normal_t": lambda g: gpugrad.normal(gpugrad.zeros(5), gpugrad.ones(5), generator=g),
    "bernoulli": lambda g: gpugrad.bernoulli(gpugrad.full((50,), 0.5), generator=g),
    "multinomial": lambda g: gpugrad.multinomial(gpugrad.ones(20), 5, generator=g),
    "multinomial_r": lambda g: gpugrad.multinomial(gpugrad.ones(2, 9), 5, True, generator=g),
    "rand_like": lambda g: gpugrad.rand_like(gpugrad.zeros(5), generator=g),
    "randn_like": lambda g: gpugrad.randn_like(gpugrad.zeros(5), generator=g),
    "randint_like": lambda g: gpugrad.randint_like(gpugrad.zeros(5), 3, 90, generator=g),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_generator_reproduces_and_leaves_global_alone(name):
    draw = DRAWS[name]
    g = gpugrad.Generator().manual_seed(11)
    first, second = draw(g).numpy(), draw(g).numpy()
    assert not np.array_equal(first, second)                  # the stream moves on
    np.testing.assert_array_equal(draw(g.manual_seed(11)).numpy(), first)
    state = g.get_state()
    np.testing.assert_array_equal(draw(g.set_state(state)).numpy(), second)
    gpugrad.manual_seed(0)
    plain = gpugrad.rand(3).numpy()
    gpugrad.manual_seed(0)
    draw(gpugrad.Generator().manual_seed(1))                  # uses its own stream only
    np.testing.assert_array_equal(gpugrad.rand(3).numpy(), plain)
    gpugrad.manual_seed(7)
    by_default = draw(None).numpy()                             # generator=None: global
    gpugrad.manual_seed(7)
    np.testing.assert_array_equal(draw(None).numpy(), by_default)


def test_generator_api(torch):
    g = gpugrad.Generator(device="cpu")
    assert g.initial_seed() == torch.Generator().initial_seed()   # the same default seed
    assert g.manual_seed(7) is g and g.initial_seed() == 7
    assert g.device == "cpu" and isinstance(g.seed(), int)
    with pytest.raises(TypeError):
        g.manual_seed(3.0)                                      # as torch.Generator
    with pytest.raises(ValueError, match="not an RNG state"):
        g.set_state({"seed": 1})
    with pytest.raises(TypeError, match="gpugrad.Generator"):
        gpugrad.rand(2, generator=np.random.default_rng(0))
    if not gpugrad.is_cuda_usable():
        with pytest.raises(gpugrad.CudaUnavailableError):
            gpugrad.Generator(device="cuda")
        return
    with pytest.raises(ValueError, match="Generator\\(device='cpu'\\)"):
        gpugrad.rand(2, generator=gpugrad.Generator(device="cuda"))
    with pytest.raises(ValueError, match="Generator\\(device='cuda'\\)"):
        gpugrad.rand(2, device="cuda", generator=gpugrad.Generator())


# ----------------------------------------------------------------------------- randperm
def test_randperm():
    gpugrad.manual_seed(0)
    for n in (0, 1, 7, 1000):
        p = gpugrad.randperm(n)
        assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(n))
    assert gpugrad.randperm(4, dtype=gpugrad.int32).dtype == np.int32
    assert gpugrad.randperm(3, dtype=gpugrad.float32, requires_grad=True).requires_grad
    with pytest.raises(ValueError):
        gpugrad.randperm(-1)
    # uniform: each of the 6 orders of 3 in 6000 draws, expected 1000, sd ~ 29
    counts = {}
    for _ in range(6000):
        key = tuple(gpugrad.randperm(3).tolist())
        counts[key] = counts.get(key, 0) + 1
    assert len(counts) == 6 and all(abs(c - 1000) < 5 * 29 for c in counts.values())


# ----------------------------------------------------------------------------- normal
def test_normal_forms_and_statistics(torch):
    gpugrad.manual_seed(0)
    x = gpugrad.normal(2.0, 3.0, size=(200_000,))
    assert x.dtype == np.float32 and x.shape == (200_000,)
    # mean within 5 standard errors (3 / sqrt(n)); std within 5 of its ~ 3 / sqrt(2n)
    se = 3.0 / math.sqrt(200_000)
    assert abs(x.mean().item() - 2.0) < 5 * se
    assert abs(x.numpy().std() - 3.0) < 5 * se / math.sqrt(2)
    mean = gpugrad.tensor([[-10.0], [10.0]], dtype=gpugrad.float64)
    std = gpugrad.tensor([0.0, 1.0, 2.0], dtype=gpugrad.float64)
    y = gpugrad.normal(mean, std)
    ty = torch.normal(torch.zeros(2, 1, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    assert y.shape == tuple(ty.shape) and y.dtype == np.float64
    np.testing.assert_array_equal(y.numpy()[:, 0], [-10.0, 10.0])      # std 0: the mean
    assert gpugrad.normal(gpugrad.zeros(5), 1.0).shape == (5,)
    assert gpugrad.normal(0.0, gpugrad.ones(4)).shape == (4,)
    assert gpugrad.normal(0.0, 1.0, (2,), dtype=gpugrad.float64).dtype == np.float64
    assert gpugrad.normal(0.0, 1.0, (2,), requires_grad=True).requires_grad
    z = gpugrad.normal(gpugrad.zeros(3, requires_grad=True), 1.0)
    assert not z.requires_grad                                          # no gradient flows


@pytest.mark.parametrize("call, error", [
    ("normal(0., 1.)", TypeError), ("normal(0., -1., (2,))", ValueError),
    ("normal(X.zeros(2), X.tensor([1., -1.]))", ValueError),
    ("normal(X.zeros(3), X.ones(2))", ValueError), ("normal(X.arange(3), 1.)", TypeError),
    ("normal(X.zeros(2), 1., size=(2,))", TypeError),
])
def test_normal_errors(call, error):
    with pytest.raises(error):
        eval(call, {"X": gpugrad}, dict(vars(gpugrad)))


# ----------------------------------------------------------------------------- bernoulli
def test_bernoulli():
    gpugrad.manual_seed(0)
    n = 100_000
    b = gpugrad.bernoulli(gpugrad.full((n,), 0.3))
    assert b.dtype == np.float32 and set(np.unique(b.numpy())) == {0.0, 1.0}
    assert abs(b.mean().item() - 0.3) < 5 * math.sqrt(0.3 * 0.7 / n)
    edges = gpugrad.bernoulli(gpugrad.tensor([0.0, 1.0] * 50, dtype=gpugrad.float64))
    assert edges.dtype == np.float64 and edges.tolist() == [0.0, 1.0] * 50
    assert gpugrad.bernoulli(gpugrad.ones(4), p=0.0).tolist() == [0.0] * 4
    ints = gpugrad.zeros(n, dtype=gpugrad.int64).bernoulli_(0.25)
    assert ints.dtype == np.int64 and abs(ints.numpy().mean() - 0.25) < 5 * math.sqrt(
        0.25 * 0.75 / n)
    t = gpugrad.zeros(3)
    assert t.bernoulli_(gpugrad.tensor([0.0, 1.0, 1.0])) is t and t.tolist() == [0, 1, 1]
    assert gpugrad.ones(3).bernoulli().tolist() == [1.0, 1.0, 1.0]
    assert not gpugrad.bernoulli(gpugrad.full((2,), 0.5, requires_grad=True)).requires_grad
    for bad in (gpugrad.tensor([1.5]), gpugrad.tensor([float("nan")])):
        with pytest.raises(ValueError, match="\\[0, 1\\]"):
            gpugrad.bernoulli(bad)
    with pytest.raises(TypeError, match="floats"):
        gpugrad.bernoulli(gpugrad.tensor([1, 0]))
    with pytest.raises(ValueError):
        gpugrad.zeros(2).bernoulli_(1.5)


# ----------------------------------------------------------------------------- multinomial
def test_multinomial_with_replacement_frequencies():
    gpugrad.manual_seed(0)
    probs = np.array([0.1, 0.0, 0.6, 0.3])
    n = 100_000
    draws = gpugrad.multinomial(gpugrad.tensor(probs * 7.0), n, replacement=True).numpy()
    freq = np.bincount(draws, minlength=4) / n
    assert freq[1] == 0.0                                       # a zero weight never drawn
    assert np.all(np.abs(freq - probs) < 5 * np.sqrt(probs * (1 - probs) / n) + 1e-12)
    rows = gpugrad.multinomial(gpugrad.tensor([[0.0, 1.0], [1.0, 0.0]]), 3, replacement=True)
    assert rows.dtype == np.int64 and rows.tolist() == [[1, 1, 1], [0, 0, 0]]


def test_multinomial_without_replacement():
    gpugrad.manual_seed(0)
    w = gpugrad.ones(2, 6)
    out = gpugrad.multinomial(w, 6)
    assert out.shape == (2, 6) and all(sorted(r) == list(range(6)) for r in out.tolist())
    assert gpugrad.multinomial(gpugrad.tensor([1.0, 0.0]), 2).tolist() == [0, 1]  # as torch
    # the first draw follows the weights: P(first = 0) = 0.7
    n = 20_000
    firsts = np.array([gpugrad.multinomial(gpugrad.tensor([0.7, 0.2, 0.1]), 2).tolist()
                       for _ in range(n)])
    assert abs((firsts[:, 0] == 0).mean() - 0.7) < 5 * math.sqrt(0.7 * 0.3 / n)
    # the second given the first = 0: P(1) = 0.2 / 0.3
    seconds = firsts[firsts[:, 0] == 0, 1]
    p = 2 / 3
    assert abs((seconds == 1).mean() - p) < 5 * math.sqrt(p * (1 - p) / len(seconds))
    assert not np.any(firsts[:, 0] == firsts[:, 1])


@pytest.mark.parametrize("probs, k, kwargs, error, match", [
    ([1.0, 1.0], 3, {}, ValueError, "without replacement"),
    ([-1.0, 1.0], 1, {}, ValueError, "negative"),
    ([1.0, float("inf")], 1, {}, ValueError, "inf"),
    ([1.0, float("nan")], 1, {}, ValueError, "nan"),
    ([0.0, 0.0], 1, {}, ValueError, "sums to 0"),
    ([1.0, 1.0], 0, {}, ValueError, "positive"),
    ([[[1.0]]], 1, {}, ValueError, "1-d or 2-d"),
    ([1, 2], 1, {}, TypeError, "floating-point"),
])
def test_multinomial_errors(probs, k, kwargs, error, match):
    with pytest.raises(error, match=match):
        gpugrad.multinomial(gpugrad.tensor(probs), k, **kwargs)
    with pytest.raises(error, match=match):
        gpugrad.tensor(probs).multinomial(k, **kwargs)


# ----------------------------------------------------------------------------- randint_like
def test_randint_like_and_random_dtypes(torch):
    gpugrad.manual_seed(0)
    r = gpugrad.randint_like(gpugrad.zeros(1000), 5)
    assert r.dtype == np.float32 and set(np.unique(r.numpy())) == {0, 1, 2, 3, 4}
    r = gpugrad.randint_like(gpugrad.zeros(3, dtype=gpugrad.int32), 2, 4)
    assert r.dtype == np.int32 and set(r.tolist()) <= {2, 3}
    assert str(gpugrad.randint_like(gpugrad.ones(3), 5).dtype) == str(
        torch.randint_like(torch.ones(3), 5).dtype)[6:]
    assert gpugrad.rand(3, dtype=gpugrad.half).dtype == np.float16
    with pytest.raises(TypeError, match="float16, float32 or float64"):
        gpugrad.rand(2, dtype=gpugrad.int64)


def test_draws_in_vmap_follow_randomness():
    gpugrad.manual_seed(0)
    x = gpugrad.zeros(4, 3)
    g = gpugrad.Generator().manual_seed(2)
    out = gpugrad.vmap(lambda r: r + gpugrad.rand(3, generator=g), randomness="different")(x)
    assert out.shape == (4, 3) and len({tuple(row) for row in out.tolist()}) == 4
    same = gpugrad.vmap(lambda r: r + gpugrad.randn(3), randomness="same")(x)
    assert len({tuple(row) for row in same.tolist()}) == 1


def test_bfloat16_arrays_refused_with_the_conversion(torch):
    """torch raises 'Got unsupported ScalarType BFloat16' from NumPy; gpugrad says what to
    do instead (NumPy, and so gpugrad on the CPU, has no bfloat16)."""
    source = torch.ones(2, dtype=torch.bfloat16)
    for make in (gpugrad.tensor, gpugrad.as_tensor):
        with pytest.raises(TypeError, match=r"bfloat16.*t\.float\(\)"):
            make(source)
    assert gpugrad.tensor(source.float().numpy()).tolist() == [1.0, 1.0]


def test_bfloat16_stand_in_refused_without_torch():
    class BFloat16Array:                        # what interop.is_bfloat16 reads: the dtype
        dtype = "ml_dtypes.bfloat16"
    with pytest.raises(TypeError, match="no bfloat16 tensors"):
        gpugrad.tensor(BFloat16Array())
