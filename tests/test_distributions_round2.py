"""Round-2 fixes in gpugrad.distributions: argument validation inside gpugrad.compile runs
at every replay (NumPy), the eigenvalue checks have no value branch, and Categorical.sample
is a binary search (no samples x categories intermediate)."""

import numpy as np
import pytest

import gpugrad
from gpugrad.distributions import Categorical, MultivariateNormal, Normal, Uniform


def test_validation_runs_at_every_replay_of_a_compiled_step():
    w = gpugrad.tensor([0.5, 1.0], requires_grad=True)
    opt = gpugrad.optim.SGD([w], lr=0.1)
    x = gpugrad.tensor([0.3, -0.2])

    @gpugrad.compile
    def step(x, s):
        opt.zero_grad()
        loss = -Normal(w, s).log_prob(x).sum()
        loss.backward()
        opt.step()
        return loss

    step(x, gpugrad.tensor([1.0, 1.0]))
    step(x, gpugrad.tensor([1.0, 2.0]))
    before = w.tolist()
    with pytest.raises(ValueError, match="scale .* GreaterThan"):
        step(x, gpugrad.tensor([-1.0, 2.0]))
    assert w.tolist() == before                     # raised before the update
    assert np.isfinite(step(x, gpugrad.tensor([1.0, 2.0])).item())


def test_support_validation_in_a_compiled_step():
    @gpugrad.compile
    def f(low, high):
        return Uniform(low, high).entropy()

    f(gpugrad.tensor([0.0]), gpugrad.tensor([1.0]))
    f(gpugrad.tensor([0.0]), gpugrad.tensor([2.0]))
    with pytest.raises(ValueError, match="low>= high"):
        f(gpugrad.tensor([3.0]), gpugrad.tensor([2.0]))


@pytest.mark.parametrize("bad", [[[1.0, 2.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]],
                                 [[float("nan"), 0.0], [0.0, 1.0]]])
def test_positive_definite_check_without_a_value_branch(bad):
    with pytest.raises(ValueError, match="covariance_matrix"):
        MultivariateNormal(gpugrad.zeros(2), gpugrad.tensor(bad))
    ok = MultivariateNormal(gpugrad.zeros(2), gpugrad.tensor([[2.0, 0.5], [0.5, 1.0]]))
    assert np.isfinite(ok.log_prob(gpugrad.zeros(2)).item())


def test_categorical_sample_frequencies_and_zero_probability_categories():
    gpugrad.manual_seed(0)
    probs = np.array([[0.2, 0.0, 0.5, 0.3], [0.0, 0.0, 0.0, 1.0]])
    s = Categorical(probs=gpugrad.tensor(probs)).sample((4000, 3))
    assert s.shape == (4000, 3, 2) and s.dtype == np.int64
    counts = np.bincount(s.numpy()[..., 0].ravel(), minlength=4) / 12000
    se = np.sqrt(probs[0] * (1 - probs[0]) / 12000)
    assert (np.abs(counts - probs[0]) <= 6 * se + 1e-12).all() and counts[1] == 0
    assert (s.numpy()[..., 1] == 3).all()
    assert Categorical(logits=gpugrad.zeros(3)).sample().shape == ()


def test_categorical_sample_is_not_samples_times_categories():
    # 2e5 samples of 1e5 categories: 2e10 comparisons (160 GB) before; a search now
    s = Categorical(probs=gpugrad.ones(100000)).sample((200000,))
    assert s.shape == (200000,) and 0 <= s.min().item() and s.max().item() < 100000


def test_categorical_sample_under_vmap_keeps_randomness_rules():
    probs = gpugrad.tensor([[0.0, 1.0], [1.0, 0.0]])
    out = gpugrad.func.vmap(lambda p: Categorical(probs=p).sample((3,)),
                            randomness="different")(probs)
    assert out.tolist() == [[1, 1, 1], [0, 0, 0]]
