"""PyTorch names part A, the rest: constants, Tensor methods (isnan, byte, ravel,
random_, fill_diagonal_, is_cpu, get_device...), ``asarray``, the top-level aliases
(autocast, GradScaler, cosine_similarity, float32 matmul precision), the settings
(set_printoptions, threads, deterministic algorithms), ``F.gumbel_softmax`` and the in-place
activations, and the deprecated ``nn.init``/``nn.utils`` names. Hand values and NumPy; torch
where installed."""

import math
import warnings

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, settings
from gpugrad.nn import functional as F


@pytest.fixture
def torch():
    """PyTorch, or the test is skipped (CI has none)."""
    return pytest.importorskip("torch")


def test_constants():
    assert gpugrad.inf == math.inf and math.isnan(gpugrad.nan) and gpugrad.newaxis is None
    assert gpugrad.pi == math.pi and gpugrad.e == math.e
    x = gpugrad.tensor([1.0, 2.0])
    assert x.masked_fill(gpugrad.tensor([True, False]), -gpugrad.inf).tolist() == [-math.inf, 2.0]
    assert x[gpugrad.newaxis].shape == (1, 2)


def test_methods_by_hand():
    x = gpugrad.tensor([[1.0, float("nan")], [float("inf"), -2.0]])
    assert x.isnan().tolist() == [[False, True], [False, False]]
    assert x.isfinite().tolist() == [[True, False], [False, True]]
    assert x.isinf().tolist() == [[False, False], [True, False]]
    assert x.isposinf().tolist() == [[False, False], [True, False]]
    y = gpugrad.tensor([[1.5, -2.0], [3.0, 4.0]])
    assert (y.byte().dtype, y.short().dtype, y.char().dtype) == (np.uint8, np.int16, np.int8)
    assert y.char().tolist() == [[1, -2], [3, 4]]
    assert y.ravel().tolist() == gpugrad.ravel(y).tolist() == [1.5, -2.0, 3.0, 4.0]
    assert gpugrad.t(y).tolist() == [[1.5, 3.0], [-2.0, 4.0]]
    assert gpugrad.concat([y, y], dim=1).shape == (2, 4)
    assert y.is_cpu is True and y.get_device() == -1


def test_ravel_is_differentiable():
    leaf = gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (leaf.ravel() * gpugrad.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert leaf.grad.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_random_ranges():
    gpugrad.manual_seed(0)
    x = gpugrad.zeros(2000)
    assert x.random_(3, 6) is x and set(x.tolist()) == {3.0, 4.0, 5.0}
    assert set(gpugrad.zeros(500, dtype="int32").random_(4).tolist()) == {0, 1, 2, 3}
    floats = gpugrad.zeros(2000).random_().numpy()
    assert floats.min() >= 0 and floats.max() <= 2 ** 24 and floats.max() > 2 ** 23
    assert np.all(floats == np.round(floats))
    assert set(gpugrad.zeros(100, dtype="bool").random_().tolist()) == {False, True}
    with pytest.raises(ValueError, match="less than"):
        gpugrad.zeros(2).random_(5, 5)


def test_fill_diagonal_against_numpy():
    for shape, wrap in (((3, 4), False), ((7, 3), False), ((7, 3), True), ((3, 3, 3), False)):
        want = np.zeros(shape)
        np.fill_diagonal(want, 5.0, wrap=wrap)
        got = gpugrad.zeros(*shape, dtype="float64")
        assert got.fill_diagonal_(5.0, wrap=wrap) is got
        np.testing.assert_array_equal(got.numpy(), want)
    leaf = gpugrad.ones(3, 3, requires_grad=True)
    y = leaf * 2
    y.fill_diagonal_(0.0)
    y.sum().backward()                     # the diagonal's gradient is cut
    assert leaf.grad.tolist() == [[0.0, 2.0, 2.0], [2.0, 0.0, 2.0], [2.0, 2.0, 0.0]]
    with pytest.raises(ValueError, match="equal length"):
        gpugrad.zeros(2, 3, 2).fill_diagonal_(1.0)


def test_methods_as_torch(torch):
    for shape, wrap in (((7, 3), True), ((4, 4, 4), False), ((2, 5), False)):
        theirs = torch.zeros(shape).fill_diagonal_(2.0, wrap=wrap)
        ours = gpugrad.zeros(*shape).fill_diagonal_(2.0, wrap=wrap)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = np.array([[1.7, -2.2], [300.0, 4.0]], dtype=np.float32)
    for name in ("byte", "short", "char", "ravel"):
        mine, want = getattr(gpugrad.tensor(x), name)(), getattr(torch.tensor(x), name)()
        np.testing.assert_array_equal(mine.numpy(), want.numpy())
    assert gpugrad.ones(2).get_device() == torch.ones(2).get_device()


def test_asarray_shares_copies_and_refuses():
    a = np.zeros(3, dtype=np.float32)
    t = gpugrad.asarray(a)
    a[0] = 5.0
    assert t.tolist() == [5.0, 0.0, 0.0]                  # shared
    c = gpugrad.asarray(a, copy=True)
    a[1] = 7.0
    assert c.tolist() == [5.0, 0.0, 0.0]                  # copied
    with pytest.raises(ValueError, match="copy=False"):
        gpugrad.asarray(a, dtype="float64", copy=False)
    with pytest.raises(ValueError, match="copy=False"):
        gpugrad.asarray([1.0, 2.0], copy=False)
    assert gpugrad.asarray([1, 2]).dtype == np.int64
    x = gpugrad.ones(2, requires_grad=True) * 2
    assert gpugrad.asarray(x) is x
    assert gpugrad.asarray(x, dtype="float64").dtype == np.float64
    assert gpugrad.asarray(x, copy=True) is not x
    assert gpugrad.asarray(x, requires_grad=False).requires_grad is False
    assert gpugrad.asarray([1.0], requires_grad=True).requires_grad


def test_aliases():
    assert gpugrad.autocast is gpugrad.amp.autocast
    assert gpugrad.GradScaler is gpugrad.amp.GradScaler
    assert gpugrad.cosine_similarity is F.cosine_similarity
    assert gpugrad.pairwise_distance is F.pairwise_distance
    before = gpugrad.get_float32_matmul_precision()
    try:
        gpugrad.set_float32_matmul_precision("high")
        assert gpugrad.get_matmul_precision() == "high"
    finally:
        gpugrad.set_float32_matmul_precision(before)


def test_set_printoptions_changes_the_repr():
    before = np.get_printoptions()
    try:
        gpugrad.set_printoptions(precision=2)
        assert repr(gpugrad.tensor([1.23456])).startswith("tensor([1.23]")
        gpugrad.set_printoptions(sci_mode=True)
        assert "e+00" in repr(gpugrad.tensor([1.5]))
        gpugrad.set_printoptions(threshold=5, edgeitems=1)
        assert "..." in repr(gpugrad.arange(10))
        gpugrad.set_printoptions(profile="full")
        assert "..." not in repr(gpugrad.arange(2000))
        gpugrad.set_printoptions(profile="default")
        assert np.get_printoptions()["precision"] == 8
        assert repr(gpugrad.tensor([1.5])).startswith("tensor([1.5]")
        with pytest.raises(ValueError, match="profile"):
            gpugrad.set_printoptions(profile="long")
    finally:
        np.set_printoptions(**before)


def test_threads_are_honest(monkeypatch):
    monkeypatch.setattr(settings, "_threadpoolctl", lambda: None)
    monkeypatch.setitem(settings._threads, "warned", False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    assert gpugrad.get_num_threads() == 3
    with pytest.warns(UserWarning, match="OMP_NUM_THREADS=2"):
        gpugrad.set_num_threads(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gpugrad.set_num_threads(2)                        # once only
    with pytest.raises(ValueError, match="positive"):
        gpugrad.set_num_threads(0)


def test_deterministic_flag_and_alert():
    try:
        assert gpugrad.are_deterministic_algorithms_enabled() is False
        settings.alert_not_deterministic("scatter_add", "cuda")           # off: nothing
        gpugrad.use_deterministic_algorithms(True)
        assert gpugrad.are_deterministic_algorithms_enabled() is True
        settings.alert_not_deterministic("scatter_add", "cpu")            # cpu: nothing
        with pytest.raises(RuntimeError, match="scatter_add.*deterministic"):
            settings.alert_not_deterministic("scatter_add", "cuda")
        gpugrad.use_deterministic_algorithms(True, warn_only=True)
        with pytest.warns(UserWarning, match="deterministic"):
            settings.alert_not_deterministic("scatter_add", "cuda")
    finally:
        gpugrad.use_deterministic_algorithms(False)


def test_gumbel_softmax_soft_hard_and_straight_through():
    logits = gpugrad.tensor(np.log([[0.2, 0.3, 0.5]] * 4000), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.7)
    np.testing.assert_allclose(soft.sum(dim=-1).numpy(), 1.0, rtol=1e-6)
    hard = F.gumbel_softmax(logits, hard=True)
    np.testing.assert_allclose(np.round(hard.detach().numpy(), 6).sum(-1), 1.0)
    assert set(np.round(hard.detach().numpy(), 6).ravel().tolist()) == {0.0, 1.0}
    # argmax of logits + Gumbel noise is a sample of softmax(logits)
    np.testing.assert_allclose(hard.detach().numpy().mean(0), [0.2, 0.3, 0.5], atol=0.03)
    # straight-through: the hard sample's gradient is the soft sample's (same noise)
    gpugrad.manual_seed(3)
    F.gumbel_softmax(logits, tau=0.5, hard=True)[:, 0].sum().backward()
    straight = logits.grad.numpy().copy()
    logits.grad = None
    gpugrad.manual_seed(3)
    F.gumbel_softmax(logits, tau=0.5)[:, 0].sum().backward()
    np.testing.assert_allclose(straight, logits.grad.numpy(), rtol=1e-6, atol=1e-9)
    assert F.gumbel_softmax(gpugrad.zeros(3, 2), dim=0).sum(0).shape == (2,)


def test_gumbel_softmax_gradient_as_torch_formula(torch):
    logits = np.log(np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]))
    gpugrad.manual_seed(5)
    ours = gpugrad.tensor(logits, requires_grad=True)
    soft = F.gumbel_softmax(ours, tau=0.5)
    gumbels = np.log(soft.detach().numpy()) * 0.5 - logits     # the noise, up to a row shift
    t = torch.tensor(logits, requires_grad=True)
    theirs = torch.softmax((t + torch.tensor(gumbels)) / 0.5, dim=-1)
    np.testing.assert_allclose(soft.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)
    weights = np.arange(6.0).reshape(2, 3)
    (soft * gpugrad.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_in_place_activations():
    values = [-2.0, -0.5, 0.5, 3.0]
    for name, args in (("elu", (1.5,)), ("leaky_relu", (0.2,)), ("hardtanh", (-1.0, 2.0)),
                       ("celu", (0.5,)), ("selu", ())):
        x = gpugrad.tensor(values)
        out = getattr(F, name + "_")(x, *args)
        assert out is x
        np.testing.assert_allclose(x.numpy(), getattr(F, name)(gpugrad.tensor(values),
                                                               *args).numpy())
    assert F.leaky_relu_(gpugrad.tensor([-2.0, 1.0]), 0.5).tolist() == [-1.0, 1.0]


def test_deprecated_init_and_clip_names():
    for old in ("uniform", "normal", "constant", "xavier_uniform", "xavier_normal",
                "kaiming_uniform", "kaiming_normal", "orthogonal", "eye", "dirac", "sparse"):
        assert getattr(nn.init, old).__name__ == old
    with pytest.warns(FutureWarning, match=r"`nn.init.constant` is now deprecated in favor of "
                                           r"`nn.init.constant_`"):
        assert nn.init.constant(gpugrad.empty(3), 2.0).tolist() == [2.0, 2.0, 2.0]
    model = nn.Linear(2, 1)
    model(gpugrad.ones(4, 2) * 10).sum().backward()
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = nn.utils.clip_grad_norm(model.parameters(), 1.0)
    np.testing.assert_allclose(total.item(), math.sqrt(2 * 40.0 ** 2 + 4.0 ** 2), rtol=1e-6)


def test_deprecated_names_match_torchs(torch):
    names = [n for n in dir(torch.nn.init) if callable(getattr(torch.nn.init, n))
             and not n.startswith("_") and not n.endswith("_") and n + "_" in dir(torch.nn.init)]
    assert all(hasattr(nn.init, n) for n in names), names
