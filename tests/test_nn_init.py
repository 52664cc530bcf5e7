"""gpugrad.nn.init against torch.nn.init's definitions: fans and gains derived by hand (the
values of torch's ``_calculate_fan_in_and_fan_out``), bounds exact, means and standard
deviations within tolerance at large sizes, orthogonality, reproducibility under
gpugrad.manual_seed; and, where installed, PyTorch's gains and error types."""

import math

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.nn import init


def test_calculate_gain_by_hand():
    assert init.calculate_gain("linear") == init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01 ** 2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / 1.04)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_calculate_gain_equals_torch():
    torch = pytest.importorskip("torch")
    for args in (("linear",), ("tanh",), ("relu",), ("leaky_relu",), ("leaky_relu", 0.3),
                 ("selu",), ("conv_transpose3d",), ("leaky_relu", 2)):
        assert init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args), args


# (shape, fan_in, fan_out) as torch's _calculate_fan_in_and_fan_out gives them
FANS = [((30, 20), 20, 30), ((8, 3, 5, 5), 75, 200), ((4, 6, 7), 42, 28), ((5, 1), 1, 5)]


@pytest.mark.parametrize("shape,fan_in,fan_out", FANS)
def test_uniform_bounds_follow_the_fans(shape, fan_in, fan_out):
    x = gpugrad.empty(*shape, dtype="float64")
    bounds = {
        "xavier": (lambda t: init.xavier_uniform_(t, gain=2.0),
                   2.0 * math.sqrt(6.0 / (fan_in + fan_out))),
        "kaiming_in": (lambda t: init.kaiming_uniform_(t, nonlinearity="relu"),
                       math.sqrt(2.0) * math.sqrt(3.0 / fan_in)),
        "kaiming_out": (lambda t: init.kaiming_uniform_(t, a=0.1, mode="fan_out"),
                        math.sqrt(2.0 / 1.01) * math.sqrt(3.0 / fan_out)),
    }
    for name, (fill, bound) in bounds.items():
        gpugrad.manual_seed(1)
        assert fill(x) is x
        values = x.numpy()
        assert np.abs(values).max() <= bound, name
        if values.size >= 500:               # filled the range: the extremes come near it
            assert np.abs(values).max() > 0.95 * bound, name


def test_fans_of_torch_match_on_real_tensors():
    torch = pytest.importorskip("torch")
    from torch.nn.init import _calculate_fan_in_and_fan_out
    for shape, fan_in, fan_out in FANS:
        assert _calculate_fan_in_and_fan_out(torch.empty(shape)) == (fan_in, fan_out)


@pytest.mark.parametrize("name,fill,mean,std", [
    ("normal", lambda t: init.normal_(t, 0.5, 2.0), 0.5, 2.0),
    ("uniform", lambda t: init.uniform_(t, -1.0, 3.0), 1.0, 4.0 / math.sqrt(12)),
    ("xavier_normal", lambda t: init.xavier_normal_(t, gain=3.0), 0.0,
     3.0 * math.sqrt(2.0 / (400 + 500))),
    ("kaiming_normal", lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     0.0, math.sqrt(2.0) / math.sqrt(500)),
])
def test_moments_at_large_sizes(name, fill, mean, std):
    gpugrad.manual_seed(0)
    x = gpugrad.empty(500, 400, dtype="float64")
    values = fill(x).numpy()
    # 200000 samples: the mean is within 5 standard errors, the std within 1%
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(values.size), name
    assert abs(values.std() / std - 1) < 0.01, name


def test_trunc_normal_bounds_and_moments():
    gpugrad.manual_seed(0)
    mean, std, a, b = 0.5, 2.0, -1.0, 3.0
    values = init.trunc_normal_(gpugrad.empty(400000, dtype="float64"), mean, std, a, b).numpy()
    assert values.min() >= a and values.max() <= b
    assert values.min() < a + 0.01 and values.max() > b - 0.01
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)       # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2                 # noqa: E731
    al, be = (a - mean) / std, (b - mean) / std
    z = cdf(be) - cdf(al)
    true_mean = mean + std * (phi(al) - phi(be)) / z
    true_var = std ** 2 * (1 + (al * phi(al) - be * phi(be)) / z - ((phi(al) - phi(be)) / z) ** 2)
    assert abs(values.mean() - true_mean) < 5 * math.sqrt(true_var / values.size)
    assert abs(values.std() / math.sqrt(true_var) - 1) < 0.01
    with pytest.warns(UserWarning, match="more than 2 std"):          # as PyTorch warns
        narrow = init.trunc_normal_(gpugrad.empty(1000), a=5.0, b=5.5).numpy()
    assert narrow.min() >= 5.0 and narrow.max() <= 5.5               # a far tail works too


@pytest.mark.parametrize("shape", [(3, 5), (6, 4), (4, 2, 3), (5, 5)])
def test_orthogonal(shape):
    gpugrad.manual_seed(0)
    w = init.orthogonal_(gpugrad.empty(*shape, dtype="float64"), gain=2.0).numpy()
    flat = w.reshape(shape[0], -1)
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(gpugrad.empty(3))


def test_constants_and_eye():
    x = gpugrad.empty(2, 3)
    np.testing.assert_array_equal(init.constant_(x, 0.25).numpy(), np.full((2, 3), 0.25))
    np.testing.assert_array_equal(init.ones_(x).numpy(), np.ones((2, 3)))
    np.testing.assert_array_equal(init.zeros_(x).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.eye_(x).numpy(), np.eye(2, 3))
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(gpugrad.empty(2, 2, 2))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(gpugrad.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(gpugrad.empty(3, 3), mode="fan_avg")


def test_parameters_stay_leaves_and_seed_replays():
    layer = nn.Linear(4, 3)
    gpugrad.manual_seed(5)
    first = init.kaiming_normal_(layer.weight).numpy().copy()
    assert layer.weight.is_leaf and layer.weight.requires_grad and layer.weight.grad_fn is None
    layer(gpugrad.ones(2, 4)).sum().backward()                # still trains
    assert layer.weight.grad.shape == (3, 4)
    gpugrad.manual_seed(5)
    np.testing.assert_array_equal(init.kaiming_normal_(layer.weight).numpy(), first)
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(gpugrad.empty(0, 3))


def test_float32_and_float16_keep_their_dtype():
    for dtype in ("float32", "float16"):
        x = init.xavier_uniform_(gpugrad.empty(8, 8, dtype=dtype))
        assert x.dtype == np.dtype(dtype) and np.abs(x.numpy()).max() <= math.sqrt(6 / 16)
