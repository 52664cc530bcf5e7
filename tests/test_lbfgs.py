"""LBFGS: by hand (no torch needed) on quadratics whose iterations can be followed on paper and
against a float64 NumPy solve, its errors and its state-dict round trip; then against
torch.optim.LBFGS (2.13) step by step in float64 on the Rosenbrock function and on a
least-squares fit, with and without the strong-Wolfe line search."""

import numpy as np
import pytest

import gpugrad
from gpugrad.optim.lbfgs_line_search import cubic_interpolate


def closure_for(opt, loss_fn):
    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss
    return closure


def f64(values):
    return gpugrad.tensor(np.array(values, dtype=np.float64), dtype="float64",
                          requires_grad=True)


# ---------------------------------------------------------------- by hand (no torch)
def test_an_isotropic_quadratic_is_solved_in_two_iterations():
    # f = |v - c|^2 / 4 over v = (x0, x1, y), gradient (v - c) / 2. Start with v - c =
    # (-1, 0.5, 0.5): g0 = (-0.5, 0.25, 0.25), sum|g0| = 1, so t = min(1, 1/1) * lr = 1 and
    # the first iteration goes to v1 = v0 - g0 (v1 - c = (v0 - c) / 2). Then s = -g0,
    # y = g1 - g0 = -g0 / 2 (= s / 2), H_diag = y.s / y.y = 2 and the two-loop recursion
    # gives d = -H g1 exactly: al = s.(-g1) / y.s = 1, q = -g1 - y = 0, d = s = (v0 - c) / 2,
    # so v2 = c. The gradient is then exactly 0: the step stops (max|g| <= tolerance_grad).
    c = np.array([3.0, -1.0, 2.0])
    x, y = f64([2.0, -0.5]), f64(2.5)
    opt = gpugrad.optim.LBFGS([x, y])
    loss_fn = lambda: (((x - gpugrad.tensor(c[:2])) ** 2).sum() + (y - c[2]) ** 2) / 4
    loss = opt.step(closure_for(opt, loss_fn))
    assert loss.item() == 0.375                              # (1 + 0.25 + 0.25) / 4
    np.testing.assert_array_equal(x.detach().numpy(), c[:2])
    assert y.item() == c[2]
    state = opt.state[x]
    assert (state["n_iter"], state["func_evals"]) == (2, 3)  # 2 iterations, 3 closure calls
    assert state["H_diag"] == 2.0 and state["ro"] == [1 / 0.1875]      # y.s = 3/16
    assert state["t"] == 1 and state["al"][:1] == [1.0]
    np.testing.assert_array_equal(state["d"].numpy(), [0.5, -0.25, -0.25])
    assert y not in opt.state                                  # kept under the first


def test_one_iteration_per_step_takes_two_steps_on_a_1d_quadratic():
    # f = (w - 3)^2 / 4 from w = 2: steepest descent to 2.5 (t = 1 as |g| = 0.5 <= 1),
    # then the secant step lands on 3 (H_diag = 0.125 / 0.0625 = 2, d = 0.5)
    w = f64(2.0)
    opt = gpugrad.optim.LBFGS([w], max_iter=1)
    closure = closure_for(opt, lambda: (w - 3) ** 2 / 4)
    assert opt.step(closure).item() == 0.25 and w.item() == 2.5
    assert opt.step(closure).item() == 0.0625 and w.item() == 3.0
    assert opt.state[w]["H_diag"] == 2.0 and opt.state[w]["n_iter"] == 2
    assert opt.step(closure).item() == 0.0 and opt.state[w]["n_iter"] == 2   # optimal


def least_squares_problem(seed=0):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    full = np.hstack([X, np.ones((6, 1))])
    solution = np.linalg.lstsq(full, Y, rcond=None)[0]      # (4, 2): W.T above b
    return X, Y, solution


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_least_squares_reaches_numpys_solution(line_search_fn):
    X, Y, solution = least_squares_problem()
    W, b = f64(np.zeros((2, 3))), f64(np.zeros(2))
    opt = gpugrad.optim.LBFGS([W, b], lr=1 if line_search_fn else 0.5,
                              line_search_fn=line_search_fn, history_size=5,
                              tolerance_grad=1e-12, tolerance_change=1e-14)
    closure = closure_for(opt, lambda: ((gpugrad.tensor(X) @ W.T + b - gpugrad.tensor(Y))
                                        ** 2).sum())
    for _ in range(10):
        opt.step(closure)
    # the loss to float64's resolution; the parameters to about its square root (near the
    # minimum a change dx moves the loss by ~|dx|^2, below what a comparison can see)
    full = np.hstack([X, np.ones((6, 1))])
    best = ((full @ solution - Y) ** 2).sum()
    np.testing.assert_allclose(closure().item(), best, rtol=1e-12)
    np.testing.assert_allclose(W.detach().numpy().T, solution[:3], atol=2e-6)
    np.testing.assert_allclose(b.detach().numpy(), solution[3], atol=2e-6)
    assert len(opt.state[W]["old_dirs"]) == 5               # the history is capped


def test_cubic_interpolation_by_hand():
    # f = x^2 - x through x = 0 and 1: minimum at 1/2 (either point first); bounds clip it
    assert cubic_interpolate(0.0, 0.0, -1.0, 1.0, 0.0, 1.0) == 0.5
    assert cubic_interpolate(1.0, 0.0, 1.0, 0.0, 0.0, -1.0) == 0.5
    assert cubic_interpolate(0.0, 0.0, -1.0, 1.0, 0.0, 1.0, bounds=(0.7, 3.0)) == 0.7
    # f(0) = 0, f(1) = 1 with slopes 2 and 2: d1 = 4 - 3 = 1 < sqrt(g1 g2), no minimum:
    # the middle of the bounds
    assert cubic_interpolate(0.0, 0.0, 2.0, 1.0, 1.0, 2.0) == 0.5
    assert cubic_interpolate(0.0, 0.0, 2.0, 1.0, 1.0, 2.0, bounds=(0.0, 4.0)) == 2.0
    # f = x^3 at -1 and 1 (slopes 3, 3): d2 = 0 and a 0 / 0, NaN as in torch's tensors
    assert np.isnan(cubic_interpolate(-1.0, -1.0, 3.0, 1.0, 1.0, 3.0))


def test_a_state_dict_saved_halfway_continues_the_same_run(tmp_path):
    X, Y, _ = least_squares_problem(1)
    options = dict(max_iter=3, history_size=4, line_search_fn="strong_wolfe")

    def start():
        return [f64(np.full((2, 3), 0.1)), f64(np.zeros(2))]

    def run_steps(params, opt, steps):
        W, b = params
        closure = closure_for(opt, lambda: ((gpugrad.tensor(X) @ W.T + b
                                             - gpugrad.tensor(Y)) ** 2).mean())
        for _ in range(steps):
            opt.step(closure)

    straight = start()
    run_steps(straight, gpugrad.optim.LBFGS(straight, **options), 5)
    first = start()
    opt = gpugrad.optim.LBFGS(first, **options)
    run_steps(first, opt, 2)
    saved = opt.state_dict()
    halfway = [p.detach().numpy().copy() for p in first]
    run_steps(first, opt, 1)             # the live state moves on; the saved copy must not
    gpugrad.save(saved, tmp_path / "lbfgs.npz")
    for source in (saved, gpugrad.load(tmp_path / "lbfgs.npz")):
        resumed = [f64(a) for a in halfway]
        again = gpugrad.optim.LBFGS(resumed, lr=0.3)
        again.load_state_dict(source)    # the saved group options come back too
        group = again.param_groups[0]
        assert (group["lr"], group["max_iter"], group["history_size"]) == (1, 3, 4)
        state = again.state[resumed[0]]
        assert isinstance(state["n_iter"], int) and isinstance(state["d"], gpugrad.Tensor)
        assert all(isinstance(v, float) for v in state["ro"])
        assert len(state["ro"]) == len(state["old_dirs"]) == len(state["old_stps"]) > 1
        run_steps(resumed, again, 3)
        for p, q in zip(resumed, straight):
            np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_errors_name_the_fix():
    a, b = f64([1.0]), f64([2.0])
    with pytest.raises(ValueError, match="parameter groups"):
        gpugrad.optim.LBFGS([{"params": [a]}, {"params": [b], "lr": 0.1}])
    opt = gpugrad.optim.LBFGS([a])
    with pytest.raises(ValueError, match="one list"):
        opt.add_param_group({"params": [b]})
    with pytest.raises(TypeError, match="needs a closure"):
        opt.step()
    with pytest.raises(ValueError, match="line_search_fn must be None or 'strong_wolfe'"):
        gpugrad.optim.LBFGS([a], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="lr"):
        gpugrad.optim.LBFGS([a], lr=-1)
    mixed = gpugrad.optim.LBFGS([a, gpugrad.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="share a device and a dtype"):
        mixed.step(lambda: (a * a).sum())
    bad = {"state": {0: {"d": np.zeros(3), "n_iter": 1}}, "param_groups":
           opt.state_dict()["param_groups"]}
    with pytest.raises(ValueError, match="'d' has shape"):
        opt.load_state_dict(bad)


def test_defaults_and_the_group_layout():
    w = f64([1.0])
    opt = gpugrad.optim.LBFGS([w], max_iter=8)
    assert opt.defaults == dict(lr=1, max_iter=8, max_eval=10, tolerance_grad=1e-7,
                                tolerance_change=1e-9, history_size=100, line_search_fn=None)
    # a parameter the loss does not use has a zero gradient: it stays put
    unused = f64([5.0])
    opt = gpugrad.optim.LBFGS([w, unused])
    opt.step(closure_for(opt, lambda: ((w - 2) ** 2).sum()))
    assert unused.item() == 5.0 and abs(w.item() - 2) < 1e-6


# ---------------------------------------------------------------- against torch (2.13)
def rosenbrock(lib, params):
    a, b, _ = params          # v = (a0, a1, b): sum of 100 (v[i+1] - v[i]^2)^2 + (1 - v[i])^2
    v = [a[0], a[1], b]
    return sum(100 * (v[i + 1] - v[i] ** 2) ** 2 + (1 - v[i]) ** 2 for i in range(2))


def least_squares(lib, params):
    X, Y, _ = least_squares_problem(2)
    W, b, s = params
    return ((lib.tensor(X) @ W.T + b * s - lib.tensor(Y)) ** 2).mean()


PROBLEMS = {
    "rosenbrock": (rosenbrock, {"a": [-1.2, 1.0], "b": 0.8, "c": [3.0]}),
    "least_squares": (least_squares, {"a": np.full((2, 3), 0.2), "b": [0.1, -0.1], "c": 1.5}),
}
# steps compared, and tolerance: on the Rosenbrock valley a last-bit difference (a fused
# multiply-add, a BLAS dot's order) grows about a hundredfold per step of 20 iterations
# (measured: 1e-16 after 1 step, up to 6e-11 after 4, 1e-9 to 2e-4 after 6)
COMPARED = {"rosenbrock": (4, 1e-9), "least_squares": (6, 1e-10)}
OPTIONS = [
    dict(lr=0.1),
    dict(lr=1, line_search_fn="strong_wolfe"),
    dict(lr=0.5, max_iter=4, history_size=3),
    dict(lr=1, line_search_fn="strong_wolfe", max_iter=7, max_eval=9, history_size=2),
]


def make(lib, starts):
    if lib is gpugrad:
        return [gpugrad.tensor(np.array(starts[k], dtype=np.float64), dtype="float64",
                               requires_grad=True) for k in "abc"]
    return [lib.tensor(np.array(starts[k], dtype=np.float64), requires_grad=True)
            for k in "abc"]


def run(lib, problem, options, steps, params=None):
    loss_fn, starts = PROBLEMS[problem]
    params = params or make(lib, starts)
    cls = gpugrad.optim.LBFGS if lib is gpugrad else lib.optim.LBFGS
    opt = cls(params, **options)
    closure = closure_for(opt, lambda: loss_fn(lib, params))
    trace = []
    for _ in range(steps):
        loss = opt.step(closure)
        state = opt.state[params[0]]
        trace.append((float(loss.item()), [np.array(p.detach().numpy()) for p in params],
                      state["func_evals"], state["n_iter"]))
    return trace, opt, params


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(map(str, o.values())))
@pytest.mark.parametrize("problem", sorted(PROBLEMS))
def test_every_step_matches_torch(problem, options):
    torch = pytest.importorskip("torch")
    steps, tol = COMPARED[problem]
    ours, opt, params = run(gpugrad, problem, options, steps)
    theirs, torch_opt, torch_params = run(torch, problem, options, steps)
    for (loss, values, evals, iters), (t_loss, t_values, t_evals, t_iters) in zip(ours, theirs):
        assert (evals, iters) == (t_evals, t_iters)
        np.testing.assert_allclose(loss, t_loss, rtol=tol, atol=tol)
        for p, q in zip(values, t_values):
            np.testing.assert_allclose(p, q, rtol=tol, atol=tol)
    state, t_state = opt.state[params[0]], torch_opt.state[torch_params[0]]
    assert set(state) == set(t_state)
    assert len(state["old_dirs"]) == len(t_state["old_dirs"])
    for key in ("t", "H_diag", "prev_loss"):
        # (scalars from differences of nearby gradients: their rounding is amplified)
        np.testing.assert_allclose(float(state[key]), float(t_state[key]), rtol=1e-6)
    for key in ("d", "prev_flat_grad"):
        np.testing.assert_allclose(state[key].numpy(), t_state[key].numpy(), rtol=1e-8,
                                   atol=1e-10)
    assert not np.allclose(theirs[-1][1][0], make(gpugrad, PROBLEMS[problem][1])[0].numpy())


def test_signature_defaults_and_state_dict_layout_are_torchs():
    torch = pytest.importorskip("torch")
    import inspect
    mine = inspect.signature(gpugrad.optim.LBFGS.__init__).parameters
    theirs = inspect.signature(torch.optim.LBFGS.__init__).parameters
    assert [(p.name, p.default) for p in mine.values()] == \
        [(p.name, p.default) for p in theirs.values()]
    _, opt, _ = run(gpugrad, "rosenbrock", dict(lr=0.1), 2)
    _, torch_opt, _ = run(torch, "rosenbrock", dict(lr=0.1), 2)
    assert opt.defaults == torch_opt.defaults
    mine_sd, their_sd = opt.state_dict(), torch_opt.state_dict()
    assert mine_sd["param_groups"] == their_sd["param_groups"]
    assert list(mine_sd["state"]) == list(their_sd["state"]) == [0]
    assert set(mine_sd["state"][0]) == set(their_sd["state"][0])


@pytest.mark.parametrize("options", OPTIONS[1:3], ids=["wolfe", "fixed"])
def test_a_torch_state_dict_resumes_in_gpugrad(options):
    torch = pytest.importorskip("torch")
    theirs, torch_opt, torch_params = run(torch, "rosenbrock", options, 2)
    starts = {k: p.detach().numpy().copy() for k, p in zip("abc", torch_params)}
    params = make(gpugrad, starts)
    opt = gpugrad.optim.LBFGS(params, **options)
    opt.load_state_dict(torch_opt.state_dict())
    closure = closure_for(opt, lambda: rosenbrock(gpugrad, params))
    t_closure = closure_for(torch_opt, lambda: rosenbrock(torch, torch_params))
    for _ in range(3):
        opt.step(closure)
        torch_opt.step(t_closure)
        for p, q in zip(params, torch_params):
            np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10,
                                       atol=1e-10)
        assert opt.state[params[0]]["n_iter"] == torch_opt.state[torch_params[0]]["n_iter"]
