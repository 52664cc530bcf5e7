"""What the transforms accept, as torch.func: outputs keep their dtype (an argmax index stays
int64), only floating-point tensors are differentiated, grad asks for a 0-d output, argnums
is an int or a non-empty tuple of distinct ints; and the error messages say what to do."""

import numpy as np
import pytest

import gpugrad
from gpugrad import func


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


X = [1.0, 3.0, 2.0]


def both(fn, torch=None):
    """fn(lib, func_module, x) with gpugrad, and with torch when given."""
    out = [fn(gpugrad, func, gpugrad.tensor(X))]
    if torch is not None:
        out.append(fn(torch, torch.func, torch.tensor(X)))
    return out


def test_jvp_keeps_an_integer_output_and_gives_it_an_integer_zero_tangent():
    x = gpugrad.tensor(X)
    (p, i), (t, ti) = func.jvp(lambda a: (a * 2, a.argmax()), (x,), (x,))
    assert i.dtype == np.int64 and i.item() == 1 and ti.dtype == np.int64 and ti.item() == 0
    np.testing.assert_allclose(t.numpy(), 2 * np.array(X))
    x[i]                                                  # still an index


def test_jacfwd_gives_an_integer_output_a_zero_block_of_its_dtype():
    jac, jac_i = func.jacfwd(lambda a: (a * 2, a.argmax()))(gpugrad.tensor(X))
    np.testing.assert_allclose(jac.numpy(), 2 * np.eye(3))
    assert jac_i.dtype == np.int64 and jac_i.tolist() == [0, 0, 0]


def test_integer_outputs_as_torch_func(torch):
    def jvp_case(lib, tf, x):
        (_, i), (_, ti) = tf.jvp(lambda a: (a * 2, a.argmax()), (x,), (x,))
        return str(i.dtype).split(".")[-1], i.item(), str(ti.dtype).split(".")[-1], ti.item()

    def jacfwd_case(lib, tf, x):
        j = tf.jacfwd(lambda a: (a, a.argmax()))(x)[1]
        return str(j.dtype).split(".")[-1], tuple(j.shape), j.tolist()
    assert both(jvp_case, torch)[0] == both(jvp_case, torch)[1]
    assert both(jacfwd_case, torch)[0] == both(jacfwd_case, torch)[1]


REJECTED = {       # each raises in torch.func too
    "vjp of an integer output": lambda lib, tf, x: tf.vjp(lambda a: (a * 2, a.argmax()), x),
    "jacrev of an integer output": lambda lib, tf, x: tf.jacrev(lambda a: (a, a.argmax()))(x),
    "grad of an integer input": lambda lib, tf, x: tf.grad(lambda a: (a ** 2).sum())(
        lib.tensor([1, 2])),
    "vjp of an integer input": lambda lib, tf, x: tf.vjp(lambda a: a * 2.0, lib.tensor([1, 2])),
    "jvp of an integer primal": lambda lib, tf, x: tf.jvp(
        lambda a: a * 2, (lib.tensor([1, 2]),), (lib.tensor([1, 1]),)),
    "jvp of an integer tangent": lambda lib, tf, x: tf.jvp(
        lambda a: a * 2, (x,), (lib.tensor([1, 1, 1]),)),
    "jacfwd of an integer input": lambda lib, tf, x: tf.jacfwd(lambda a: a * 2)(
        lib.tensor([1, 2])),
    "grad of a (1,) output": lambda lib, tf, x: tf.grad(lambda a: (a ** 2).sum().reshape(1))(x),
    "argnums=()": lambda lib, tf, x: tf.grad(lambda a: a.sum(), argnums=())(x),
    "argnums=[0]": lambda lib, tf, x: tf.grad(lambda a: a.sum(), argnums=[0])(x),
    "argnums=(0, 0)": lambda lib, tf, x: tf.grad(lambda a, b: a.sum(), argnums=(0, 0))(x, x),
    "argnums=1.0": lambda lib, tf, x: tf.grad(lambda a, b: a.sum(), argnums=1.0)(x, x),
}

MESSAGES = {
    "vjp of an integer output": r"vjp: output 1 of f has dtype int64; only floating-point "
                                r"outputs.*has_aux=True",
    "jacrev of an integer output": r"jacrev: output 1 of f has dtype int64",
    "grad of an integer input": r"grad: argument 0 has dtype int64; only floating-point "
                                r"or complex tensors can be differentiated",
    "vjp of an integer input": r"vjp: argument 0 has dtype int64",
    "jvp of an integer primal": r"jvp: a primal has dtype int64",
    "jvp of an integer tangent": r"jvp: a tangent has dtype int64",
    "jacfwd of an integer input": r"jacfwd: argument 0 has dtype int64",
    "grad of a (1,) output": r"scalar output \(a 0-d tensor\).*shape \(1,\).*reshape\(\(\)\)",
    "argnums=()": r"non-empty tuple of ints, got \(\) \(tuple\)",
    "argnums=[0]": r"got \[0\] \(list\); pass a tuple: argnums=\(0,\)",
    "argnums=(0, 0)": r"argnums \(0, 0\) names an argument more than once",
    "argnums=1.0": r"argnums must be an int or a non-empty tuple of ints, got 1.0 \(float\)",
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_rejected_with_a_message(case):
    with pytest.raises((TypeError, ValueError), match=MESSAGES[case]):
        REJECTED[case](gpugrad, func, gpugrad.tensor(X))


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_rejected_by_torch_func_too(torch, case):
    with pytest.raises(Exception):
        REJECTED[case](torch, torch.func, torch.tensor(X))


def test_python_numbers_are_still_differentiated_as_floats():
    dx, dy = func.grad(lambda x, y: x ** 2 * y + y ** 3, argnums=(0, 1))(2, 3.0)
    assert (dx.item(), dy.item()) == (12.0, 31.0) and dx.dtype == np.float32
    assert func.jvp(lambda x: x ** 3, (2.0,), (1,))[1].item() == 12.0


def test_grad_of_an_integer_output_is_zero_as_torch(torch):
    g = func.grad(lambda a: (a ** 2).sum().astype("int64"))(gpugrad.tensor(X))
    assert g.tolist() == [0.0, 0.0, 0.0]
    assert torch.func.grad(lambda a: (a ** 2).sum().long())(torch.tensor(X)).tolist() == \
        g.tolist()


def test_grad_returning_a_pair_hints_at_has_aux():
    with pytest.raises(TypeError, match=r"got tuple\. Returning \(loss, aux\)\? Pass "
                                        r"has_aux=True"):
        func.grad(lambda a: ((a ** 3).sum(), a))(gpugrad.tensor(X))


@pytest.mark.parametrize("name", ["jacrev", "jacfwd", "hessian"])
def test_chunk_size_errors_name_the_transform(name):
    with pytest.raises(ValueError, match=rf"^{name}: chunk_size must be a positive int"):
        getattr(func, name)(lambda a: a, chunk_size=0)
