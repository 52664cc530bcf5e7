"""gpugrad.compile on the CPU: N compiled steps equal N eager steps exactly (the reference is
the same step run eagerly from the same start), re-recording when the signature changes,
and the refusals.

Every comparison is bitwise (np.array_equal on losses, parameters and gradients): a replay
calls the very functions the eager step called, on the same values, so any difference is a
value the program froze at recording instead of reading at replay.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, optim
from gpugrad.checkpoint import checkpoint_sequential
from gpugrad.cuda import CaptureError
from gpugrad.nn import functional as F

OPTIMIZERS = {
    "sgd-nesterov": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3,
                                         nesterov=True),
    "sgd-momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, dampening=0.1),
    "adam": lambda ps: optim.Adam(ps, lr=1e-2, weight_decay=1e-3),
    "adamw": lambda ps: optim.AdamW(ps, lr=1e-2),
}


def _batches(n, rows=5, features=8, classes=4, seed=1):
    rng = np.random.default_rng(seed)
    return [(gpugrad.tensor(rng.standard_normal((rows, features)).astype(np.float32)),
             gpugrad.tensor(rng.integers(0, classes, rows))) for _ in range(n)]


def _trained(opt_name, compiled, checkpoint=False, set_to_none=True, steps=6, batches=None):
    """Losses, parameters and gradients after ``steps`` steps of one MLP (same seed)."""
    gpugrad.manual_seed(0)
    model = nn.MLP([8, 16, 16, 16, 4])
    opt = OPTIMIZERS[opt_name](list(model.parameters()))
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)

    def step(x, y):
        opt.zero_grad(set_to_none=set_to_none)
        out = checkpoint_sequential(model.layers, 2, x) if checkpoint else model(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
        sched.step()
        return loss

    run = gpugrad.compile(step) if compiled else step
    losses = [run(x, y).numpy() for x, y in (batches or _batches(steps))]
    params = [p.numpy().copy() for p in model.parameters()]
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    return losses, params, grads, run


def _plain_step(model, opt):
    """The usual training step (x, y) -> loss of ``model`` with ``opt``."""
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("checkpoint", [False, True], ids=["plain", "checkpointed"])
@pytest.mark.parametrize("set_to_none", [True, False], ids=["grads-none", "grads-zeroed"])
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_compiled_steps_equal_eager_steps_exactly(opt_name, checkpoint, set_to_none):
    eager = _trained(opt_name, False, checkpoint, set_to_none)
    compiled = _trained(opt_name, True, checkpoint, set_to_none)
    assert _same(eager[0], compiled[0])                         # every loss
    assert _same(eager[1], compiled[1])                         # every parameter
    assert _same(eager[2], compiled[2])                         # every gradient
    assert (compiled[3].records, compiled[3].replays) == (1, 5)  # really replayed


def test_the_seed_example_compiled_gives_its_gradients_at_every_point():
    @gpugrad.compile
    def value_and_grad(x, y):
        z = x**2 * y + y**3
        z.backward()
        return z, x.grad, y.grad

    for x0, y0 in [(2.0, 3.0), (1.0, 2.0), (-0.5, 4.0)]:
        x = gpugrad.tensor(x0, requires_grad=True)
        y = gpugrad.tensor(y0, requires_grad=True)
        z, dx, dy = value_and_grad(x, y)
        # hand-derived: dz/dx = 2xy, dz/dy = x^2 + 3y^2
        assert (z.item(), dx.item(), dy.item()) == (x0**2 * y0 + y0**3, 2 * x0 * y0,
                                                    x0**2 + 3 * y0**2)
        assert x.grad is dx or np.array_equal(x.grad.numpy(), dx.numpy())   # stored, too
    assert (value_and_grad.records, value_and_grad.replays) == (1, 2)


def test_each_signature_records_once_and_replays_its_own_program():
    model = nn.Linear(3, 2)

    @gpugrad.compile
    def forward(x):
        return (model(x) ** 2).sum()

    shapes = [(4, 3), (2, 3), (4, 3), (2, 3)]
    rng = np.random.default_rng(0)
    for shape in shapes:
        x = rng.standard_normal(shape).astype(np.float32)
        expected = ((x @ model.weight.numpy().T + model.bias.numpy()) ** 2).sum()
        assert forward(gpugrad.tensor(x)).item() == pytest.approx(expected, rel=1e-6)
    assert (forward.records, forward.replays) == (2, 2)
    forward(gpugrad.tensor(rng.standard_normal((4, 3))))              # float64: a new dtype
    forward(gpugrad.tensor(np.ones((4, 3), np.float32), requires_grad=True))
    assert forward.records == 4


def test_a_replaced_parameter_or_optimizer_state_records_again():
    gpugrad.manual_seed(0)
    layer = nn.Linear(4, 3)
    opt = optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        F.cross_entropy(layer(x), y).backward()
        opt.step()

    compiled = gpugrad.compile(step)
    (x, y), = _batches(1, rows=6, features=4, classes=3)
    compiled(x, y)
    compiled(x, y)
    assert (compiled.records, compiled.replays) == (1, 1)
    layer.weight.data = gpugrad.zeros(3, 4)         # a new array: read by reference before
    compiled(x, y)
    assert compiled.records == 2
    # the step after the replacement is the eager step from the same state
    state = opt.state_dict()
    w, b = layer.weight.numpy().copy(), layer.bias.numpy().copy()
    compiled(x, y)
    after_compiled = layer.weight.numpy().copy()
    layer.weight.data, layer.bias.data = gpugrad.tensor(w), gpugrad.tensor(b)
    opt.load_state_dict(state)                      # the optimizer's layout changes too
    step(x, y)
    assert np.array_equal(layer.weight.numpy(), after_compiled)
    compiled(x, y)
    assert compiled.records == 3


def test_learning_rates_changed_between_calls_are_read_at_every_replay():
    results = []
    for compiled in (False, True):
        gpugrad.manual_seed(0)
        model = nn.Linear(4, 3)
        opt = optim.Adam(model.parameters(), lr=0.1)
        step = _plain_step(model, opt)
        run = gpugrad.compile(step) if compiled else step
        for i, (x, y) in enumerate(_batches(5, features=4, classes=3)):
            opt.param_groups[0]["lr"] = 0.1 / (i + 1)      # a schedule outside the step
            run(x, y)
        results.append([p.numpy().copy() for p in model.parameters()])
    assert _same(*results)


def test_outputs_are_new_tensors_without_a_graph():
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)

    @gpugrad.compile
    def loss_of(x):
        loss = (w * x).sum()
        loss.backward()
        return loss

    first = loss_of(gpugrad.tensor([1.0, 1.0]))
    second = loss_of(gpugrad.tensor([3.0, 0.0]))
    third = loss_of(gpugrad.tensor([0.0, 5.0]))
    assert (first.item(), second.item(), third.item()) == (3.0, 3.0, 10.0)
    assert not (first.requires_grad or second.requires_grad or third.requires_grad)
    assert second is not third and second._array is not third._array
    assert w.grad.tolist() == [4.0, 6.0]      # accumulated over the calls, as eager: sum of x


def test_ops_on_raw_arrays_inside_a_step_are_replayed_not_frozen():
    """Comparisons, masks, casts, argmax, in-place writes, indexing by a tensor and
    gradient clipping: each reads the replay's values."""
    gpugrad.manual_seed(0)
    model = nn.Linear(6, 6)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, index):
        opt.zero_grad()
        h = model(x)
        mask = (h > 0).astype(gpugrad.float32)
        h = h * mask
        h[0] = 0.0
        h += 1.0
        picked = h[index]
        winner = picked.argmax(axis=1).astype(gpugrad.float32)
        loss = (picked ** 2).sum() + winner.sum()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        nn.utils.clip_grad_value_(model.parameters(), 0.01)
        opt.step()
        return loss

    def run(compiled):
        gpugrad.manual_seed(0)
        model.weight.data = gpugrad.randn(6, 6)
        model.bias.data = gpugrad.randn(6)
        fn = gpugrad.compile(step) if compiled else step
        rng = np.random.default_rng(3)
        out = []
        for _ in range(4):
            x = gpugrad.tensor(rng.standard_normal((5, 6)).astype(np.float32))
            index = gpugrad.tensor(rng.integers(0, 5, 3))
            out.append(fn(x, index).numpy())
        return out + [p.numpy().copy() for p in model.parameters()], fn

    eager, (compiled, fn) = run(False)[0], run(True)
    assert _same(eager, compiled)
    assert fn.replays == 3


def test_cross_entropy_counts_and_checks_labels_at_every_replay():
    model = nn.Linear(4, 3)

    @gpugrad.compile
    def loss_of(x, y):
        return F.cross_entropy(model(x), y)

    x = gpugrad.randn(4, 4)
    loss_of(x, gpugrad.tensor([0, 1, 2, 0]))
    ignored = loss_of(x, gpugrad.tensor([0, -100, -100, 0]))      # a mean over 2 rows
    assert ignored.item() == pytest.approx(F.cross_entropy(model(x), gpugrad.tensor(
        [0, -100, -100, 0])).item(), rel=1e-6)
    with pytest.raises(ValueError, match="label 7 is out of range for 3 classes"):
        loss_of(x, gpugrad.tensor([0, 7, 1, 1]))
    assert loss_of.records == 1


def test_a_replay_keeps_no_more_memory_than_the_eager_step():
    gpugrad.manual_seed(0)
    model = nn.MLP([256] + [256] * 8 + [10])
    step = _plain_step(model, optim.SGD(model.parameters(), lr=0.01))
    x, y = gpugrad.randn(512, 256), gpugrad.randint(0, 10, (512,))
    compiled = gpugrad.compile(step)

    def peak(fn):
        fn(x, y)
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        fn(x, y)
        high = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        return high

    eager_peak = peak(step)
    compiled(x, y)
    replay_peak = peak(compiled)
    assert compiled.replays >= 2
    assert replay_peak <= eager_peak * 1.05, (replay_peak, eager_peak)


def test_host_reads_random_draws_and_replaced_buffers_are_refused_clearly():
    layer = nn.Linear(3, 3)

    def reads(x):
        loss = layer(x).sum()
        if loss > 0:                                   # a branch on a value
            loss = loss * 2
        return loss

    with pytest.raises(CaptureError, match="bool"):
        gpugrad.compile(reads)(gpugrad.ones(2, 3))
    dropout = nn.Dropout(0.5)
    with pytest.raises(CaptureError, match="random numbers"):
        gpugrad.compile(lambda x: dropout(x))(gpugrad.ones(2, 3))
    layer.register_buffer("seen", gpugrad.zeros(3))

    def assigns(x):
        layer.seen = layer.seen + x.sum(axis=0)
        return layer(x)

    with pytest.raises(gpugrad.CompileError, match="update it in place"):
        gpugrad.compile(assigns)(gpugrad.ones(2, 3))

    def replaces(x):
        layer.weight.data = x
        return x

    with pytest.raises(gpugrad.CompileError, match=r"\.data"):
        gpugrad.compile(replaces)(gpugrad.ones(3, 3))
    with pytest.raises(gpugrad.CompileError, match=r"np\.median\(\) of a tensor"):
        gpugrad.compile(lambda x: gpugrad.tensor(np.median(x)))(gpugrad.ones(3))
    from gpugrad.distributed.group import reduce_array
    with pytest.raises(gpugrad.CompileError, match="a collective across ranks"):
        gpugrad.compile(lambda x: reduce_array(x._array, "sum"))(gpugrad.ones(3))
    with pytest.raises(TypeError, match="input 1 is a float"):
        gpugrad.compile(lambda x, s: x * s)(gpugrad.ones(2), 2.0)
    with pytest.raises(TypeError, match="takes a function"):
        gpugrad.compile(3)
    inner = gpugrad.compile(lambda x: x * 2)
    inner(gpugrad.ones(2))
    with pytest.raises(gpugrad.CompileError, match="compile the outer step only"):
        gpugrad.compile(lambda x: inner(x) + 1)(gpugrad.ones(2))


def test_python_state_is_fixed_at_recording_until_reset():
    gpugrad.manual_seed(0)
    dropout = nn.Dropout(0.5)
    dropout.eval()

    @gpugrad.compile
    def apply_dropout(x):
        return dropout(x) * 1.0

    x = gpugrad.ones(4)
    assert apply_dropout(x).tolist() == [1.0] * 4
    dropout.train()                                      # not seen by the recorded program
    assert apply_dropout(x).tolist() == [1.0] * 4
    apply_dropout.reset()
    with pytest.raises(CaptureError, match="random numbers"):
        apply_dropout(x)                                  # recorded again, in train mode


def test_the_program_is_readable_python():
    @gpugrad.compile
    def f(x):
        return (x * 3).exp().sum()

    f(gpugrad.ones(3))
    source = f.program(gpugrad.ones(3)).source
    assert source.startswith("def replay(t0):")
    assert "Exp_forward" in source and "Sum_forward" in source
    assert f.program(gpugrad.ones(4)) is None


@pytest.mark.parametrize("checkpoint", [None, "2"], ids=["plain", "checkpointed"])
def test_train_with_compile_trains_exactly_as_eager(tmp_path, checkpoint):
    from gpugrad.training import TrainConfig, fit
    runs = [fit(TrainConfig(epochs=2, out=str(tmp_path / str(flag)), progress=False,
                            device="cpu", compile=flag, checkpoint=checkpoint),
                log=lambda *a: None)
            for flag in (False, True)]
    eager, compiled = ([(e["train_loss"], e["test_accuracy"]) for e in run["epochs"]]
                       for run in runs)
    assert eager == compiled


def test_the_train_command_takes_compile(tmp_path, capsys):
    from gpugrad.cli import main
    assert main(["train", "--data", "synthetic", "--synthetic-size", "300", "--epochs", "1",
                 "--compile", "--no-progress", "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "model.npz").exists()
    assert main(["train", "--compile", "--cuda-graph", "--epochs", "1", "--no-progress",
                 "--out", str(tmp_path / "both")]) != 0
    assert "--cuda-graph and --compile" in capsys.readouterr().err


def test_a_compiled_step_trains_as_the_eager_step_on_each_device(device):
    """On the CPU the recorded program (bitwise); on a GPU the step's CUDA graph, whose
    optimizer kernels are those of the eager step (within float32 rounding)."""
    def trained(compiled):
        gpugrad.manual_seed(0)
        model = nn.MLP([8, 32, 32, 4]).to(device)
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad(set_to_none=False)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        run = gpugrad.compile(step) if compiled else step
        losses = [run(x.to(device), y.to(device)).item() for x, y in _batches(5)]
        return losses, [p.numpy() for p in model.parameters()], run

    eager, (losses, params, run) = trained(False), trained(True)
    if device == "cpu":
        assert eager[0] == losses and _same(eager[1], params)
    else:
        np.testing.assert_allclose(losses, eager[0], rtol=1e-5)
        for a, b in zip(params, eager[1]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert run.replays >= 3


def test_a_step_whose_signature_keeps_changing_warns_once():
    double = gpugrad.compile(lambda x: x * 2.0)
    with pytest.warns(RuntimeWarning, match="recorded 8 times"):
        for n in range(1, 9):
            assert double(gpugrad.ones(n)).tolist() == [2.0] * n
    assert double.records == 8
    double(gpugrad.ones(3))                      # a signature seen before: replayed
    assert double.replays == 1


def test_a_gradient_penalty_step_second_order_replays_as_eager():
    """create_graph inside the step: the reverse rules' own rules are replayed too (a
    cross-entropy target built from each batch's labels, a tanh's second derivative)."""
    def trained(compiled):
        gpugrad.manual_seed(0)
        model = nn.MLP([6, 16, 3], activation="tanh")
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            (gx,) = gpugrad.autograd.grad(loss, (x,), create_graph=True)
            total = loss + (gx ** 2).sum()
            total.backward()
            opt.step()
            return total

        run = gpugrad.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        totals = []
        for _ in range(4):
            x = gpugrad.tensor(rng.standard_normal((5, 6)).astype(np.float32),
                               requires_grad=True)
            totals.append(run(x, gpugrad.tensor(rng.integers(0, 3, 5))).numpy())
        return totals + [p.numpy().copy() for p in model.parameters()], run

    (eager, _), (compiled, run) = trained(False), trained(True)
    assert _same(eager, compiled) and run.replays == 3


def test_tensors_read_by_raw_kernels_are_guarded():
    """A comparison and an in-place write read tensors by reference: replacing their
    arrays records again, as a replaced parameter does."""
    w, buf = gpugrad.ones(3), gpugrad.zeros(3)

    def step(x):
        buf.add_(x)
        return (w > 0).astype(gpugrad.float32) * x

    compiled = gpugrad.compile(step)
    x = gpugrad.ones(3)
    compiled(x)
    compiled(x)
    buf.data, w.data = gpugrad.zeros(3), -gpugrad.ones(3)
    assert compiled(x).tolist() == [0.0, 0.0, 0.0]           # eager: w > 0 is all False
    assert buf.tolist() == [1.0, 1.0, 1.0] and compiled.records == 2


def test_a_kernel_calling_a_kernel_is_written_down_once():
    from gpugrad.autograd.compile_mode import kernel

    def inner(a):
        a += 1.0

    def outer(a):
        kernel(inner, a)

    buf = gpugrad.zeros(2)
    compiled = gpugrad.compile(lambda x: kernel(outer, buf._array) or x * 1.0)
    for _ in range(3):
        compiled(gpugrad.ones(2))
    assert buf.tolist() == [3.0, 3.0] and compiled.replays == 2


def test_optimizer_state_replaced_between_calls_is_read_at_replay():
    results = []
    for compiled in (False, True):
        gpugrad.manual_seed(0)
        model = nn.Linear(4, 3)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        step = _plain_step(model, opt)
        run = gpugrad.compile(step) if compiled else step
        for i, (x, y) in enumerate(_batches(4, features=4, classes=3)):
            if i == 2:
                opt.state = {}                             # momentum starts again
            run(x, y)
        results.append([p.numpy().copy() for p in model.parameters()] + [len(opt.state)])
    assert _same(results[0][:-1], results[1][:-1]) and results[1][-1] == 2


def test_outputs_that_are_inputs_or_parameters_come_back_as_new_tensors():
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    compiled = gpugrad.compile(lambda x: (w, x, (w * x).sum()))
    for _ in range(2):
        x = gpugrad.tensor([3.0, 4.0])
        out_w, out_x, total = compiled(x)
        assert out_w is not w and out_x is not x and not out_w.requires_grad
        assert out_w.tolist() == [1.0, 2.0] and out_x.tolist() == [3.0, 4.0]
        assert total.item() == 11.0
    assert compiled.replays == 1


def test_forward_mode_tangents_are_refused():
    import gpugrad.autograd.forward_ad as fwAD
    compiled = gpugrad.compile(lambda x: x * 3.0)
    with fwAD.dual_level():
        dual = fwAD.make_dual(gpugrad.ones(2), gpugrad.ones(2))
        with pytest.raises(gpugrad.CompileError, match="forward-mode tangents"):
            compiled(dual)


def test_the_last_programs_check_refuses_every_change_its_key_would():
    """A call first tries the program the call before it ran (one generated check of its
    signature and guards, ``StepProgram.matches``); each change below must fail that check
    and record again (or find its own program), with the eager step's results."""
    w = nn.Parameter(gpugrad.tensor(np.array([0.5, -1.0, 2.0], np.float32)))
    extra = nn.Parameter(gpugrad.ones(3))
    opt = optim.SGD([w], lr=0.0)

    def step(a, b):
        opt.zero_grad()
        loss = (a * w + b).sum()
        loss.backward()
        opt.step()                      # (lr 0: w stays; its layout is guarded)
        return loss, w.grad

    compiled = gpugrad.compile(step)
    x = gpugrad.tensor(np.array([1.0, 2.0, 3.0], np.float32))
    y = gpugrad.tensor(np.array([0.5, 0.5, 0.5], np.float32))
    variants = [
        ("base", lambda: (x, y)),
        ("shape", lambda: (gpugrad.ones(2, 3), y)),
        ("dtype", lambda: (gpugrad.ones(3, dtype="float64"), y)),
        ("requires_grad", lambda: (gpugrad.ones(3, requires_grad=True), y)),
        ("one tensor twice", lambda: (x, x)),
        ("a parameter", lambda: (nn.Parameter(gpugrad.ones(3)), y)),   # (a program of its
    ]                                                   # own: the step may read it by reference)
    for name, make in variants:
        inputs = make()
        program = compiled._last
        if program is not None:
            assert not program.matches(inputs) or name == "base", name
        loss, grad = compiled(*inputs)
        eager_loss, eager_grad = step(*inputs)
        assert np.array_equal(loss.numpy(), eager_loss.numpy()), name
        assert np.array_equal(grad.numpy(), eager_grad.numpy()), name
    assert (compiled.records, compiled.replays) == (len(variants), 0)
    compiled(x, x)
    last = compiled._last
    assert last.matches((x, x)) and not last.matches((x, y)) and not last.matches((x,))
    assert not last.matches((x, x, x)) and not last.matches(())
    with gpugrad.no_grad():
        assert not last.matches((x, x))
    with gpugrad.amp.autocast(dtype="float16"):
        assert not last.matches((x, x))
    w.requires_grad_(False)
    assert not last.matches((x, x))
    w.requires_grad_(True)
    assert last.matches((x, x))
    opt.add_param_group({"params": [extra]})
    assert not last.matches((x, x))
    compiled(x, x)
    assert compiled.records == len(variants) + 1
    w.data = gpugrad.zeros(3)
    assert not compiled._last.matches((x, x))


def test_a_step_of_no_inputs_and_one_of_many_replay():
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    none = gpugrad.compile(lambda: (w * 3.0).sum())
    assert [none().item() for _ in range(3)] == [9.0, 9.0, 9.0]
    assert (none.records, none.replays) == (1, 2)
    many = gpugrad.compile(lambda *xs: sum(xs[1:], xs[0]))
    xs = [gpugrad.tensor([float(i)]) for i in range(12)]
    for _ in range(2):
        assert many(*xs).item() == 66.0
    assert many(*xs[:11], xs[0]).item() == 55.0            # one tensor twice: its own record
    assert (many.records, many.replays) == (2, 1)
    again = (*xs[:2], xs[1], *xs[3:11], xs[0])              # and another tensor twice
    assert not many._last.matches(again) and many(*again).item() == 54.0
    assert (many.records, many.replays) == (3, 1)
    with pytest.raises(TypeError, match="input 1 is a float"):
        many(xs[0], 2.0)


def test_two_tensors_sharing_one_array_are_recorded_as_sharing_it():
    """A tensor and its ``detach()`` are two inputs over one array: the program reads it
    once, and a call with two arrays records again (it replayed the shared one's program,
    reading the last input's array for both)."""
    f = gpugrad.compile(lambda a, b: a * 2.0 + b * 10.0)
    x = gpugrad.tensor([1.0, 2.0])
    assert f(x, x.detach()).tolist() == [12.0, 24.0]
    assert f(gpugrad.tensor([1.0, 1.0]), gpugrad.tensor([5.0, 5.0])).tolist() == [52.0, 52.0]
    y = gpugrad.tensor([3.0, 4.0])
    assert f(y, y.detach()).tolist() == [36.0, 48.0]
    assert (f.records, f.replays) == (2, 1)
