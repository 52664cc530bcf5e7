"""PyTorch habits on tensors and at the top level: size(), max/min(dim=), mT, t(), dtype
shorthands, var/std, randint, inference_mode, cuda.is_available, and the errors a hook or a
batched matmul gives. References: NumPy in float64 and hand-derived values."""

import json

import numpy as np
import pytest

import gpugrad


def test_size_is_numpys_count_and_pytorchs_shape():
    t = gpugrad.zeros(2, 3, 4)
    assert t.size == 24 and isinstance(t.size, int) and json.dumps(t.size) == "24"
    assert t.size() == (2, 3, 4) and t.size(0) == 2 and t.size(-1) == 4
    assert t.size + 1 == 25 and repr(t.size) == "24"
    with pytest.raises(IndexError, match=r"dimension 3 is out of range.*-3 to 2"):
        t.size(3)
    with pytest.raises(IndexError, match="no dimensions"):
        gpugrad.tensor(1.0).size(0)
    assert gpugrad.tensor(1.0).size() == ()


def test_max_and_min_with_dim_return_values_and_indices():
    values = np.array([[1.0, 7.0, 3.0], [9.0, -2.0, 4.0]])
    t = gpugrad.tensor(values, dtype="float64", requires_grad=True)
    for method, reduce, arg in (("max", np.max, np.argmax), ("min", np.min, np.argmin)):
        for dim in (0, 1, -1):
            result = getattr(t, method)(dim=dim)
            np.testing.assert_array_equal(result.values.numpy(), reduce(values, axis=dim))
            np.testing.assert_array_equal(result.indices.numpy(), arg(values, axis=dim))
            assert result.indices.dtype == np.int64
        kept = getattr(gpugrad, method)(t, dim=1, keepdim=True)
        assert kept.values.shape == (2, 1) and kept.indices.shape == (2, 1)
    assert isinstance(t.max(axis=1), gpugrad.Tensor)        # NumPy's meaning stays
    t.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[0, 1, 0], [1, 0, 0]])


def test_max_with_dim_of_a_0d_tensor_and_numpy_ints():
    result = gpugrad.tensor(3.0).max(dim=0)
    assert result.values.item() == 3.0 and result.indices.item() == 0
    indices = gpugrad.tensor([[1.0, 4.0, 2.0]]).max(dim=np.int64(1)).indices
    assert indices.tolist() == [1]
    assert gpugrad.zeros(2, 5).size(np.int64(1)) == 5


def test_max_with_dim_refuses_what_pytorch_refuses():
    t = gpugrad.ones(2, 3)
    with pytest.raises(TypeError, match="not both"):
        t.max(axis=0, dim=1)
    with pytest.raises(TypeError, match="one int dimension"):
        t.min(dim=(0, 1))


def test_max_with_dim_matches_pytorch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((3, 4, 5))
    for dim in (0, 1, 2):
        ours, theirs = gpugrad.tensor(values).max(dim=dim), torch.tensor(values).max(dim=dim)
        np.testing.assert_allclose(ours.values.numpy(), theirs.values.numpy(), rtol=1e-6)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_matrix_transposes():
    values = np.arange(24.0).reshape(2, 3, 4)
    t = gpugrad.tensor(values, requires_grad=True)
    np.testing.assert_array_equal(t.mT.numpy(), values.swapaxes(-1, -2))
    m = gpugrad.tensor(values[0])
    np.testing.assert_array_equal(m.t().numpy(), values[0].T)
    assert gpugrad.tensor([1.0, 2.0]).t().tolist() == [1.0, 2.0]
    (t.mT * gpugrad.tensor(values.swapaxes(-1, -2))).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), values)
    with pytest.raises(ValueError, match="mT.*shape \\(3,\\)"):
        gpugrad.zeros(3).mT
    with pytest.raises(ValueError, match="at most 2 dimensions.*mT"):
        t.t()


def test_dtype_shorthands():
    t = gpugrad.tensor([1.5, -2.5], requires_grad=True)
    expected = {"float": np.float32, "double": np.float64, "half": np.float16,
                "long": np.int64, "int": np.int32, "bool": np.bool_}
    for name, dtype in expected.items():
        assert getattr(t, name)().dtype == dtype
    assert t.int().tolist() == [1, -2] and t.bool().tolist() == [True, True]
    (t.double() * 2).sum().backward()
    assert t.grad.dtype == np.float32 and t.grad.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2)])
@pytest.mark.parametrize("kwargs,ddof", [({}, 1), ({"correction": 0}, 0),
                                         ({"correction": 2}, 2), ({"unbiased": False}, 0),
                                         ({"unbiased": True}, 1), ({"ddof": 0}, 0)])
def test_var_and_std_against_numpy(axis, kwargs, ddof):
    values = np.random.default_rng(1).standard_normal((3, 4, 5))
    t = gpugrad.tensor(values, dtype="float64")
    np.testing.assert_allclose(t.var(axis, **kwargs).numpy(),
                               values.var(axis=axis, ddof=ddof), rtol=1e-12)
    np.testing.assert_allclose(gpugrad.std(t, dim=axis, keepdim=True, **kwargs).numpy(),
                               values.std(axis=axis, ddof=ddof, keepdims=True), rtol=1e-12)


def test_var_gradient_is_two_centered_over_dof():
    values = np.array([[1.0, 4.0, 2.0], [0.5, 0.0, 3.0]])
    t = gpugrad.tensor(values, dtype="float64", requires_grad=True)
    t.var(axis=1).sum().backward()          # d/dx sum((x - m)^2) / (n - 1) = 2 (x - m) / 2
    np.testing.assert_allclose(t.grad.numpy(), values - values.mean(1, keepdims=True),
                               rtol=1e-12)
    s = gpugrad.tensor(values, dtype="float64", requires_grad=True)
    assert gpugrad.gradcheck(lambda x: x.std(correction=0), (s,))
    assert gpugrad.gradgradcheck(lambda x: x.var(dim=0), (s,))


def test_std_gradient_is_zero_where_all_values_are_equal():
    values = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]])
    t = gpugrad.tensor(values, dtype="float64", requires_grad=True)
    t.std(dim=1).sum().backward()       # d std / dx = (x - m) / ((n - 1) std)
    expected = [[0.0, 0.0, 0.0], [-0.5, 0.0, 0.5]]
    np.testing.assert_allclose(t.grad.numpy(), expected, atol=1e-12)
    assert np.isnan(gpugrad.tensor([1.0, np.nan]).std().item())


def test_var_takes_pytorchs_positional_arguments():
    values = np.array([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]])
    t = gpugrad.tensor(values, dtype="float64")
    np.testing.assert_allclose(t.var(1, False).numpy(), values.var(1), rtol=1e-12)
    np.testing.assert_allclose(t.std(1, True, True).numpy(),
                               values.std(1, ddof=1, keepdims=True), rtol=1e-12)


def test_var_edge_cases_as_pytorch():
    with pytest.warns(RuntimeWarning, match="no degrees of freedom"):
        assert np.isnan(gpugrad.tensor([3.0]).var().item())      # 0 / 0
    with pytest.warns(RuntimeWarning, match="no degrees of freedom"):
        assert gpugrad.tensor([1.0, 2.0]).var(correction=2).item() == np.inf
    assert gpugrad.tensor([3.0]).var(correction=0).item() == 0.0
    with pytest.raises(TypeError, match="one of correction, unbiased and ddof"):
        gpugrad.ones(3).var(correction=1, unbiased=True)
    with pytest.raises(TypeError, match="int64 tensor"):
        gpugrad.tensor([1, 2]).std()


def test_var_and_std_match_pytorch():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(2).standard_normal((4, 6))
    for kwargs in ({}, {"dim": 1}, {"dim": 0, "correction": 0, "keepdim": True}):
        for name in ("var", "std"):
            ours = getattr(gpugrad.tensor(values, dtype="float64"), name)(**kwargs)
            theirs = getattr(torch.tensor(values), name)(**kwargs)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_randint():
    gpugrad.manual_seed(3)
    a = gpugrad.randint(0, 5, (10000,))
    assert a.dtype == np.int64 and a.shape == (10000,)
    counts = np.bincount(a.numpy(), minlength=5)
    assert counts.min() > 1800 and counts.max() < 2200 and a.numpy().min() == 0
    gpugrad.manual_seed(3)
    np.testing.assert_array_equal(gpugrad.randint(0, 5, (10000,)).numpy(), a.numpy())
    b = gpugrad.randint(7, (2, 3), dtype="int32")
    assert b.shape == (2, 3) and b.dtype == np.int32 and 0 <= b.numpy().min() <= b.numpy().max() < 7
    c = gpugrad.randint(-3, -1, size=(50,), dtype="float32")
    assert c.dtype == np.float32 and set(c.tolist()) <= {-3.0, -2.0}
    with pytest.raises(ValueError, match=r"low \(4\) must be less than high \(4\)"):
        gpugrad.randint(4, 4, (2,))
    with pytest.raises(TypeError, match="size a tuple"):
        gpugrad.randint(0, 10)


def test_randint_keywords_and_requires_grad():
    drawn = gpugrad.randint(low=2, high=5, size=(200,))
    assert set(drawn.tolist()) == {2, 3, 4}
    assert set(gpugrad.randint(high=2, size=(50,)).tolist()) == {0, 1}
    floats = gpugrad.randint(0, 3, (4,), dtype="float32", requires_grad=True)
    assert floats.requires_grad and floats.dtype == np.float32
    with pytest.raises(TypeError, match="size a tuple"):
        gpugrad.randint(low=2, size=(3,))


def test_randint_in_vmap_follows_randomness():
    draws = gpugrad.vmap(lambda x: gpugrad.randint(0, 1000, (3,)), randomness="different")(
        gpugrad.zeros(4))
    assert draws.shape == (4, 3) and len({tuple(r) for r in draws.tolist()}) == 4
    same = gpugrad.vmap(lambda x: gpugrad.randint(0, 1000, (3,)), randomness="same")(
        gpugrad.zeros(4))
    assert len({tuple(r) for r in same.tolist()}) == 1


def test_inference_mode_as_context_and_decorator():
    w = gpugrad.ones(2, requires_grad=True)
    with gpugrad.inference_mode():
        assert gpugrad.is_inference_mode_enabled() and not gpugrad.is_grad_enabled()
        y = w * 2
        with gpugrad.enable_grad():
            z = w * 2
    assert not y.requires_grad and z.requires_grad
    assert not gpugrad.is_inference_mode_enabled() and gpugrad.is_grad_enabled()
    with gpugrad.inference_mode(False):
        assert (w * 2).requires_grad

    @gpugrad.inference_mode
    def bare(x):
        return x * 2

    @gpugrad.inference_mode()
    def called(x):
        return x * 2

    assert not bare(w).requires_grad and not called(w).requires_grad
    assert (w * 2).requires_grad


def test_inference_mode_false_records_again_as_pytorch():
    w = gpugrad.ones(2, requires_grad=True)
    with gpugrad.inference_mode(), gpugrad.inference_mode(False):
        assert (w * 2).requires_grad and not gpugrad.is_inference_mode_enabled()
    with gpugrad.no_grad(), gpugrad.inference_mode(False):
        assert (w * 2).requires_grad
    assert (w * 2).requires_grad


@pytest.mark.parametrize("mode", [gpugrad.no_grad, gpugrad.inference_mode])
def test_a_decorated_generator_runs_each_step_in_the_mode(mode):
    w = gpugrad.ones(2, requires_grad=True)

    @mode()
    def steps():
        received = yield w * 2
        assert received == "next"
        try:
            yield w * 3
        except ValueError:
            yield (w * 4, gpugrad.is_grad_enabled())
        return "done"

    gen = steps()
    assert not next(gen).requires_grad
    assert (w * 2).requires_grad                      # between steps: the caller's mode
    assert not gen.send("next").requires_grad
    thrown, grad_enabled = gen.throw(ValueError("in"))
    assert not thrown.requires_grad and not grad_enabled
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"


def test_cuda_is_available_says_what_backend_says():
    assert gpugrad.cuda.is_available() == gpugrad.backend.is_cuda_usable()
    if not gpugrad.cuda.is_available():
        assert gpugrad.cuda.device_count() == 0


def test_a_hook_that_returns_an_array_is_named():
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)

    def to_numpy(g):
        return g.numpy() * 2

    x.register_hook(to_numpy)
    with pytest.raises(TypeError, match=r"hook 'test_.*to_numpy' returned a numpy\.ndarray.*"
                                        r"gpugrad\.tensor"):
        (x * 3).sum().backward()
    assert x.grad is None


@pytest.mark.parametrize("leaf", [True, False])
def test_a_hook_that_changes_shape_or_dtype_is_named(leaf):
    x = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    y = x if leaf else x * 1
    handle = y.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match=r"hook '.*lambda>' changed the gradient's shape "
                                           r"from \(2,\) to \(\)"):
        (y * 3).sum().backward(retain_graph=True)
    handle.remove()
    y.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match="dtype from float32 to float64"):
        (y * 3).sum().backward()


def test_batched_matmul_names_both_shapes_when_batches_do_not_broadcast():
    a, b = gpugrad.ones(2, 3, 4), gpugrad.ones(5, 4, 2)
    with pytest.raises(ValueError, match=r"matmul: the batch dimensions of shapes \(2, 3, 4\) "
                                         r"and \(5, 4, 2\) do not broadcast"):
        a @ b
    left = np.random.default_rng(4).standard_normal((2, 1, 3, 4))
    right = np.random.default_rng(5).standard_normal((5, 4, 2))
    np.testing.assert_allclose((gpugrad.tensor(left, dtype="float64")
                                @ gpugrad.tensor(right, dtype="float64")).numpy(),
                               left @ right, rtol=1e-12)
