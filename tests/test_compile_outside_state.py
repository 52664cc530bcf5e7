"""What a compiled step reads from outside itself: gradients made before the call, module
attributes, hooks, version counters; and the reads it must refuse.

Each case runs the same calls eagerly and compiled from the same start and compares them
bitwise (or, for a refusal, checks the error). Before these were handled, every case below
replayed silently wrong numbers: the program kept the recording's gradient, buffer or hook.
"""

from __future__ import annotations

import numpy as np
import pytest

import gpugrad
from gpugrad import nn, optim
from gpugrad.cuda import CaptureError
from gpugrad.nn import functional as F


def _both(make, calls: int = 4):
    """``make()`` -> (step, state): the step's outputs and ``state()`` after ``calls`` calls,
    eagerly and compiled; ``step(i)`` is given the call's number."""
    results = []
    for compiled in (False, True):
        step, state = make()
        run = gpugrad.compile(step) if compiled else step
        outputs = [np.asarray(run(gpugrad.tensor(float(i))).numpy()).copy()
                   for i in range(calls)]
        results.append((outputs, state(), run))
    (eager, eager_state, _), (got, got_state, compiled_run) = results
    for a, b in zip(eager + eager_state, got + got_state):
        np.testing.assert_array_equal(b, a)
    return compiled_run


# ---------------------------------------------------------------------- gradients made outside
def test_an_update_step_compiled_apart_reads_the_gradients_backward_made_outside():
    """Gradient accumulation: micro-batch forward/backward steps, then a compiled update
    (clip, step, zero_grad) that reads the gradients the call finds, not the recording's."""
    def train(compiled):
        gpugrad.manual_seed(0)
        model = nn.MLP([6, 8, 3])
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def micro(x, y):
            loss = F.cross_entropy(model(x), y) / 2
            loss.backward()
            return loss

        def update(dummy):
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            opt.zero_grad()
            return dummy

        if compiled:
            micro, update = gpugrad.compile(micro), gpugrad.compile(update)
        rng = np.random.default_rng(1)
        losses = []
        for _ in range(4):
            for _ in range(2):
                x = gpugrad.tensor(rng.standard_normal((5, 6)).astype(np.float32))
                y = gpugrad.tensor(rng.integers(0, 3, 5))
                losses.append(micro(x, y).numpy().copy())
            update(gpugrad.zeros(1))
        return losses, [p.numpy().copy() for p in model.parameters()], update

    eager, compiled = train(False), train(True)
    for a, b in zip(eager[0] + eager[1], compiled[0] + compiled[1]):
        np.testing.assert_array_equal(b, a)
    assert (compiled[2].records, compiled[2].replays) == (1, 3)     # read live, not recorded


def test_a_gradient_set_or_gone_outside_the_step_is_read_or_skipped_as_eagerly():
    """The program reads a gradient it found only while one is there, of the same layout:
    an optimizer step skips a parameter whose .grad became None, as eagerly."""
    got = []
    for compiled in (False, True):
        w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(dummy):
            opt.step()
            return w * 1.0
        run = gpugrad.compile(step) if compiled else step
        values = []
        for g in ([1.0, 1.0], [10.0, 10.0], None, [0.5, -0.5]):
            w.grad = None if g is None else gpugrad.tensor(g)
            values.append(run(gpugrad.zeros(1)).numpy().copy())
        got.append((values, run))
    for a, b in zip(got[0][0], got[1][0]):
        np.testing.assert_array_equal(b, a)
    np.testing.assert_array_equal(got[0][0][2], got[0][0][1])        # no grad: no update
    assert got[1][1].records == 3        # with a gradient, without, with one again


def test_an_input_that_shares_a_parameters_memory_is_refused():
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    @gpugrad.compile
    def step(anchor):
        opt.zero_grad()
        loss = ((w - anchor) ** 2).sum() + (w ** 2).sum()
        loss.backward()
        opt.step()
        return loss

    with pytest.raises(gpugrad.CompileError, match="input 0 shares its memory with a "):
        step(w.detach())


# ---------------------------------------------------------------------- module state, hooks
def test_a_buffer_replaced_between_calls_is_read_afresh():
    outs = []
    for compiled in (False, True):
        module = nn.Module()
        module.register_buffer("scale", gpugrad.ones(2))

        def step(x):
            return (x * module.scale).sum()
        run = gpugrad.compile(step) if compiled else step
        values = []
        for i in range(3):
            module.scale = gpugrad.full((2,), i + 1.0)          # outside the step
            values.append(run(gpugrad.ones(2)).item())
        outs.append(values)
    assert outs[0] == outs[1] == [2.0, 4.0, 6.0]


def test_a_parameter_and_optimizer_replaced_between_calls_are_used():
    outs = []
    for compiled in (False, True):
        gpugrad.manual_seed(0)
        model = nn.Linear(2, 1)
        state = {"opt": optim.SGD(model.parameters(), lr=0.1)}

        def step(x):
            state["opt"].zero_grad()
            loss = (model(x) ** 2).sum()
            loss.backward()
            state["opt"].step()
            return loss
        run = gpugrad.compile(step) if compiled else step
        values = [run(gpugrad.ones(1, 2)).item()]
        model.weight = nn.Parameter(gpugrad.tensor([[0.5, -0.25]]))
        state["opt"] = optim.SGD(model.parameters(), lr=0.05)
        values += [run(gpugrad.ones(1, 2)).item() for _ in range(3)]
        outs.append((values, model.weight.numpy().copy()))
    assert outs[0][0] == outs[1][0]
    np.testing.assert_array_equal(outs[1][1], outs[0][1])


@pytest.mark.parametrize("kind", ["tensor-hook", "module-forward-hook",
                                  "post-accumulate-hook"])
def test_hooks_added_or_removed_between_calls_are_noticed(kind):
    outs = []
    for compiled in (False, True):
        layer = nn.Linear(2, 2, bias=False)
        with gpugrad.no_grad():
            layer.weight.copy_(gpugrad.tensor([[1.0, 2.0], [3.0, 4.0]]))

        def step(x):
            layer.weight.grad = None
            layer(x).sum().backward()
            return layer.weight.grad * 1.0
        run = gpugrad.compile(step) if compiled else step
        x = gpugrad.tensor([[1.0, -1.0]])
        values = [run(x).numpy().copy()]
        if kind == "tensor-hook":
            handle = layer.weight.register_hook(lambda g: g * 10)
        elif kind == "module-forward-hook":
            handle = layer.register_forward_hook(lambda m, args, out: out * 3)
        else:
            handle = layer.weight.register_post_accumulate_grad_hook(
                lambda p: p.grad.mul_(0.5))
        values += [run(x).numpy().copy(), run(x).numpy().copy()]
        handle.remove()
        values += [run(x).numpy().copy()]
        outs.append(values)
    for a, b in zip(*outs):
        np.testing.assert_array_equal(b, a)
    assert not np.array_equal(outs[0][1], outs[0][0])       # the hook changed something


# ---------------------------------------------------------------------- what a replay writes
def test_an_in_place_write_at_replay_is_counted_on_the_version():
    """A graph built outside the step saves ``buf``; a replay that writes into it must make
    that graph's backward fail as the eager write does."""
    for compiled in (False, True):
        w = gpugrad.tensor([1.0, 2.0], requires_grad=True)
        buf = gpugrad.tensor([3.0, 4.0])

        def step(x):
            with gpugrad.no_grad():
                buf.mul_(2.0)
            return x * 1.0
        run = gpugrad.compile(step) if compiled else step
        run(gpugrad.ones(1))                        # (the recording)
        y = (w * buf).sum()                         # saves buf
        run(gpugrad.ones(1))                        # a replay writes into it
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            y.backward()


def test_a_retained_gradient_returned_from_the_step_is_this_calls():
    def make():
        w = gpugrad.tensor([1.0, 2.0], requires_grad=True)

        def step(i):
            h = w * (i + 1.0)
            h.retain_grad()
            (h ** 2).sum().backward()
            return h.grad
        return step, lambda: [w.grad.numpy().copy()]
    _both(make)


def test_requires_grad_set_on_an_input_inside_the_step_is_set_at_every_replay():
    got = []
    for compiled in (False, True):
        def step(x):
            x.requires_grad_()
            (x ** 2).sum().backward()
            return x.grad
        run = gpugrad.compile(step) if compiled else step
        xs = [gpugrad.tensor([1.0 + i, 2.0]) for i in range(3)]
        got.append([(run(x).numpy().copy(), x.requires_grad) for x in xs])
    for (a, flag_a), (b, flag_b) in zip(*got):
        np.testing.assert_array_equal(b, a)
        assert flag_a is flag_b is True


# ---------------------------------------------------------------------- refused reads
@pytest.mark.parametrize("read, error", [
    (lambda x: gpugrad.tensor(np.asarray(x) * 2), CaptureError),
    (lambda x: gpugrad.tensor(np.array(x)), CaptureError),
    (lambda x: gpugrad.tensor(x.array * 2), gpugrad.CompileError),
], ids=["np.asarray", "np.array", "t.array"])
def test_raw_values_read_out_of_the_step_are_refused(read, error):
    step = gpugrad.compile(lambda x: read(x) + x)
    with pytest.raises(error, match="np.asarray|t.array"):
        step(gpugrad.ones(2))


def test_as_tensor_with_a_conversion_is_made_at_every_replay():
    def make():
        def step(i):
            return gpugrad.as_tensor(gpugrad.stack([i, i + 1.0]), dtype=gpugrad.float64) * 2
        return step, lambda: []
    _both(make)


def test_cross_entropy_in_vmap_names_a_label_out_of_range_eagerly_and_at_replay():
    w = gpugrad.ones(4, 3)

    def per_example(x, y):
        losses = gpugrad.func.vmap(lambda xi, yi: F.cross_entropy(xi @ w, yi))(x, y)
        return losses.sum()

    x = gpugrad.ones(2, 5, 4)
    good = gpugrad.tensor([[0, 1, 2, 0, 1]] * 2)
    bad = gpugrad.tensor([[0, 1, 2, 0, 1], [0, 1, 7, 0, 1]])
    compiled = gpugrad.compile(per_example)
    compiled(x, good)
    for run in (per_example, compiled):
        with pytest.raises(ValueError, match="label 7 is out of range for 3 classes"):
            run(x, bad)


# ---------------------------------------------------------------------- second review's cases
def _split_training(update_body, calls: int = 4):
    """Eager backward outside, then ``update_body(model, opt)`` compiled (or not) apart:
    the losses, parameters and the update step, per mode."""
    runs = []
    for compiled in (False, True):
        gpugrad.manual_seed(0)
        model = nn.Linear(3, 2)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)

        def update(x):
            update_body(model, opt)
            return x.sum()
        run = gpugrad.compile(update) if compiled else update
        rng = np.random.default_rng(4)
        for _ in range(calls):
            opt.zero_grad()
            x = gpugrad.tensor(rng.standard_normal((4, 3)).astype(np.float32))
            (model(x) ** 2).sum().backward()
            run(x)
        runs.append(([p.numpy().copy() for p in model.parameters()], run))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(b, a)
    return runs[1][1]


def test_requires_grad_set_in_the_step_leaves_an_outside_gradient_read_afresh():
    def body(model, opt):
        model.weight.requires_grad_(True)
        opt.step()
    assert _split_training(body).records == 1


def test_an_outside_gradient_read_through_as_tensor_of_its_parameter_is_read_afresh():
    def body(model, opt):
        gpugrad.as_tensor(model.weight, dtype=gpugrad.float32)      # the same array back
        opt.step()
    assert _split_training(body).records == 1


def test_two_parameters_sharing_one_gradient_array_when_recorded_are_told_apart_later():
    got = []
    for compiled in (False, True):
        a, b = nn.Parameter(gpugrad.zeros(3)), nn.Parameter(gpugrad.zeros(3))
        opt = optim.SGD([a, b], lr=1.0)

        def step(x):
            opt.step()
            return x * 1.0
        run = gpugrad.compile(step) if compiled else step
        shared = gpugrad.ones(3)
        a.grad, b.grad = shared, shared
        run(gpugrad.ones(1))
        a.grad, b.grad = gpugrad.ones(3), gpugrad.full((3,), 10.0)
        run(gpugrad.ones(1))
        got.append((a.numpy().copy(), b.numpy().copy()))
    np.testing.assert_array_equal(got[1][0], got[0][0])
    np.testing.assert_array_equal(got[1][1], got[0][1])
    np.testing.assert_array_equal(got[0][1], [-11.0, -11.0, -11.0])


def test_a_replay_counts_its_write_on_the_gradient_it_found():
    w = gpugrad.tensor([1.0, 2.0], requires_grad=True)

    @gpugrad.compile
    def clip(x):
        nn.utils.clip_grad_value_([w], 0.5)
        return x * 1.0

    for _ in range(3):
        w.grad = gpugrad.tensor([3.0, -0.25])
        before = w.grad._version
        clip(gpugrad.ones(1))
        assert w.grad._version == before + 1
        np.testing.assert_array_equal(w.grad.numpy(), [0.5, -0.25])
    assert clip.replays == 2


def test_freezing_and_unfreezing_inside_the_step_replays():
    gpugrad.manual_seed(0)
    frozen, trained = nn.Linear(2, 2), nn.Linear(2, 2)
    opt = optim.SGD(trained.parameters(), lr=0.1)

    @gpugrad.compile
    def step(x):
        for p in frozen.parameters():
            p.requires_grad_(False)
        opt.zero_grad()
        (frozen(trained(x)) ** 2).sum().backward()
        opt.step()
        for p in frozen.parameters():
            p.requires_grad_(True)
        return frozen.weight.grad is None

    for _ in range(4):
        step(gpugrad.ones(1, 2))
    assert (step.records, step.replays) == (1, 3)


def test_steps_that_hook_their_own_intermediates_or_slice_modules_do_not_record_again():
    """Hooks on tensors a step makes, a hook it adds and removes, and modules it builds
    (a Sequential slice) change nothing another program reads."""
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    w = model[0].weight

    def first(x):
        h = model[:2](x)
        h.register_hook(lambda g: g * 2)
        model(x).sum().backward()
        return h.sum()

    def second(x):
        handle = w.register_hook(lambda g: g * 3)
        model(x).sum().backward()
        handle.remove()
        return w.grad * 1.0

    a, b = gpugrad.compile(first), gpugrad.compile(second)
    a(gpugrad.ones(1, 2))
    b(gpugrad.ones(1, 2))       # its recording adds and removes a hook on w: a records once
    for _ in range(4):          # more (the count is global), then neither records again
        a(gpugrad.ones(1, 2))
        b(gpugrad.ones(1, 2))
    assert (a.records, a.replays, b.records, b.replays) == (2, 3, 1, 4)


class _Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = gpugrad.ones(2)            # a plain attribute, not a buffer

    def forward(self, x):
        return x * self.scale


def test_a_plain_tensor_attribute_of_a_module_replaced_outside_is_read_afresh():
    outs = []
    for compiled in (False, True):
        module = _Scaled()

        def step(x):
            return module(x).sum()
        run = gpugrad.compile(step) if compiled else step
        values = []
        for i in range(3):
            values.append(run(gpugrad.ones(2)).item())
            module.scale = gpugrad.full((2,), i + 2.0)
        outs.append(values)
    assert outs[0] == outs[1] == [2.0, 4.0, 6.0]


# ---------------------------------------------------------------------- third review's cases
def test_grads_zeroed_in_place_keep_which_parameters_have_one_as_the_call_finds_them():
    """``zero_grad(set_to_none=False)`` with no backward reaching ``b``: the optimizer
    updates ``b`` only while it has a gradient, as eagerly (weight decay and momentum)."""
    got = []
    for compiled in (False, True):
        gpugrad.manual_seed(0)
        a, b = nn.Linear(3, 1), nn.Linear(3, 1)
        opt = optim.SGD([*a.parameters(), *b.parameters()], lr=0.1, momentum=0.9,
                        weight_decay=0.1)
        x = gpugrad.ones(2, 3)
        (a(x).sum() + b(x).sum()).backward()

        def step(x):
            opt.zero_grad(set_to_none=False)
            loss = a(x).sum()
            loss.backward()
            opt.step()
            return loss
        run = gpugrad.compile(step) if compiled else step
        run(x)
        run(x)
        b.weight.grad = None
        run(x)
        run(x)
        got.append([p.numpy().copy() for p in (*a.parameters(), *b.parameters())])
    for want, have in zip(*got):
        np.testing.assert_array_equal(have, want)


def test_saved_tensor_hooks_and_anomaly_mode_are_part_of_the_signature():
    from gpugrad.autograd.graph import saved_tensors_hooks
    got = []
    for compiled in (False, True):
        w = gpugrad.tensor([1.0, -2.0, 0.5], requires_grad=True)

        def step(x):
            w.grad = None
            (w * x).pow(2).sum().backward()
            return w.grad * 1.0
        run = gpugrad.compile(step) if compiled else step
        x = gpugrad.tensor([1.0, 2.0, 3.0])
        values = [run(x).numpy().copy()]
        with saved_tensors_hooks(lambda t: t * 0.5, lambda t: t):
            values.append(run(x).numpy().copy())
        values.append(run(x).numpy().copy())
        got.append(values)
    for want, have in zip(*got):
        np.testing.assert_array_equal(have, want)
    assert not np.array_equal(got[0][1], got[0][0])         # the hooks changed the gradient

    @gpugrad.compile
    def nan_step(x):
        w = gpugrad.tensor([1.0], requires_grad=True)
        (w * x).sqrt().sum().backward()
        return w.grad
    nan_step(gpugrad.tensor([1.0]))
    with gpugrad.autograd.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(gpugrad.autograd.AnomalyError):
            nan_step(gpugrad.tensor([-1.0]))


def test_a_layer_added_outside_the_step_is_run_by_the_next_call():
    got = []
    for compiled in (False, True):
        gpugrad.manual_seed(0)
        seq = nn.Sequential(nn.Linear(3, 3), nn.Tanh())

        def step(x):
            loss = seq(x).pow(2).sum()
            loss.backward()
            return loss
        run = gpugrad.compile(step) if compiled else step
        x = gpugrad.ones(2, 3)
        values = [run(x).item(), run(x).item()]
        seq.add_module("2", nn.Linear(3, 3))
        values += [run(x).item(), run(x).item()]
        got.append((values, seq[2].weight.grad.numpy().copy()))
    assert got[0][0] == got[1][0]
    np.testing.assert_array_equal(got[1][1], got[0][1])


def test_an_optimizers_parameter_passed_as_an_input_must_be_that_parameter_again():
    got = []
    for compiled in (False, True):
        w, v = gpugrad.tensor([1.0, 2.0], requires_grad=True), \
            gpugrad.tensor([3.0, 4.0], requires_grad=True)
        opt = optim.SGD([w], lr=0.1)

        def step(p):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
            return p * 1.0
        run = gpugrad.compile(step) if compiled else step
        run(w)
        run(w)
        run(v)
        got.append((w.numpy().copy(), v.numpy().copy(), v.grad.numpy().copy()))
    for want, have in zip(*got):
        np.testing.assert_array_equal(have, want)


def test_a_replays_write_into_an_input_is_counted_on_that_inputs_version():
    w = gpugrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    step = gpugrad.compile(lambda x: x.mul_(2.0).sum())
    for _ in range(3):
        x = gpugrad.tensor([1.0, 2.0, 3.0])
        y = (w * x).sum()                       # saves x
        step(x)
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            y.backward()
    assert step.replays == 2


def test_per_example_gradients_with_vmap_compile():
    gpugrad.manual_seed(0)
    model = nn.Linear(3, 1)

    def per_example(x):
        return gpugrad.func.vmap(gpugrad.func.grad(lambda xi: model(xi).pow(2).sum()))(x)
    compiled = gpugrad.compile(per_example)
    for seed in range(3):
        x = gpugrad.tensor(np.random.default_rng(seed).standard_normal((5, 3)).astype(np.float32))
        np.testing.assert_array_equal(compiled(x).numpy(), per_example(x).numpy())


def test_a_tensor_attribute_of_a_module_no_step_calls_records_nothing():
    """A metrics module's running total, set between calls, is no step's business."""
    class Meter(nn.Module):
        def __init__(self):
            super().__init__()
            self.total = gpugrad.zeros(())

        def update(self, value):
            self.total = self.total + value

    model, meter = _Scaled(), Meter()
    step = gpugrad.compile(lambda x: model(x).sum())
    for _ in range(5):
        meter.update(step(gpugrad.ones(2)))
    assert (step.records, step.replays, meter.total.item()) == (1, 4, 10.0)


# ---------------------------------------------------------------------- fourth review's cases
def test_an_input_that_carries_a_graph_built_outside_is_refused():
    encoder, head = nn.Linear(4, 5), nn.Linear(5, 3)

    @gpugrad.compile
    def step(h, y):
        loss = F.cross_entropy(head(h), y)
        loss.backward()
        return loss

    y = gpugrad.tensor([0, 1])
    with pytest.raises(gpugrad.CompileError, match="input 0 of .* carries a graph"):
        step(encoder(gpugrad.ones(2, 4)), y)
    step(encoder(gpugrad.ones(2, 4)).detach(), y)          # as the message says
    with pytest.raises(gpugrad.CompileError, match="carries a graph"):
        step(encoder(gpugrad.ones(2, 4)), y)                # a replay checks it too
    assert (step.records, step.replays) == (1, 0)


def test_a_parameter_passed_as_an_input_is_that_parameter_at_every_replay():
    got = []
    for compiled in (False, True):
        gpugrad.manual_seed(0)
        layer = nn.Linear(3, 3)
        other = nn.Parameter(gpugrad.ones(3, 3) * 0.5)

        def step(w):
            return (layer.weight * w).sum()
        run = gpugrad.compile(step) if compiled else step
        got.append([run(layer.weight).item(), run(other).item(), run(other).item()])
    assert got[0] == got[1]


def test_a_compiled_step_inside_a_grad_transform_is_refused():
    step = gpugrad.compile(lambda x: (x ** 2).sum())
    step(gpugrad.ones(3))
    for transform in (gpugrad.func.grad, lambda f: (lambda x: gpugrad.func.vjp(f, x)),
                      gpugrad.func.jacrev):
        with pytest.raises(gpugrad.CompileError, match="an argument gpugrad.func.grad/vjp/"
                                                       "jacrev differentiates"):
            transform(step)(gpugrad.ones(3))
    w = nn.Parameter(gpugrad.ones(3))           # a value it does not differentiate: allowed
    value = gpugrad.func.grad(lambda s: step(w) * 0 + (s * s).sum())(gpugrad.ones(3))
    np.testing.assert_array_equal(value.numpy(), [2.0, 2.0, 2.0])
    outer = gpugrad.compile(gpugrad.func.grad(lambda x: (x ** 2).sum()))    # the other way
    np.testing.assert_array_equal(outer(gpugrad.tensor([1.0, 2.0])).numpy(), [2.0, 4.0])


def test_registering_a_buffer_inside_a_step_is_refused():
    class Lazy(nn.Module):
        def forward(self, x):
            if "running" not in self._buffers:
                self.register_buffer("running", gpugrad.zeros(x.shape[1]))
            return x * 1.0

    step = gpugrad.compile(Lazy())
    assert step.__name__ == "Lazy"
    with pytest.raises(gpugrad.CompileError, match="registering a buffer"):
        step(gpugrad.ones(2, 3))


# ---------------------------------------------------------------------- fifth review's cases
def test_a_tensor_attribute_read_through_a_method_and_replaced_outside_is_read_afresh():
    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Linear(3, 2)
            self.scale = gpugrad.tensor([2.0, 2.0])

        def encode(self, x):                    # not forward: the module is never called
            return self.net(x) * self.scale

    got = []
    for compiled in (False, True):
        gpugrad.manual_seed(0)
        module = Encoder()
        step = lambda x: module.encode(x).sum(0)          # noqa: E731
        run = gpugrad.compile(step) if compiled else step
        values = []
        for i in range(3):
            values.append(run(gpugrad.ones(2, 3)).numpy().copy())
            module.scale = gpugrad.tensor([3.0 + i, 1.0])
        got.append(values)
    for want, have in zip(*got):
        np.testing.assert_array_equal(have, want)


def test_an_input_that_carries_a_graph_is_refused_under_no_grad_too():
    encoder, head = nn.Linear(4, 5), nn.Linear(5, 3)

    @gpugrad.compile
    def step(h):
        with gpugrad.enable_grad():
            head(h).sum().backward()
        return h.sum()

    h = encoder(gpugrad.ones(2, 4))
    with gpugrad.no_grad(), pytest.raises(gpugrad.CompileError, match="carries a graph"):
        step(h)


def test_a_buffer_passed_as_an_input_and_read_by_reference_is_that_buffer_again():
    got = []
    for compiled in (False, True):
        module = nn.Module()
        module.register_buffer("b", gpugrad.tensor([1.0, 2.0]))
        step = lambda t, x: (t * x + module.b).sum()      # noqa: E731
        run = gpugrad.compile(step) if compiled else step
        got.append([run(module.b, gpugrad.ones(2)).item(),
                    run(gpugrad.tensor([5.0, 5.0]), gpugrad.ones(2)).item()])
    assert got[0] == got[1] == [6.0, 13.0]


def test_a_step_over_each_parameter_pair_keeps_a_program_per_parameter():
    """An EMA update called once per (average, parameter) pair replays each pair's own."""
    gpugrad.manual_seed(0)
    model, average = nn.MLP([3, 3, 3]), nn.MLP([3, 3, 3])     # (shapes repeat)

    @gpugrad.compile
    def ema(kept, current):
        with gpugrad.no_grad():
            kept.mul_(0.9).add_(current * 0.1)
        return kept.sum()

    pairs = list(zip(average.parameters(), model.parameters()))
    expected = [k.numpy() * 0.9 ** 3 + p.numpy() * (1 - 0.9 ** 3) for k, p in pairs]
    for _ in range(3):
        for kept, current in pairs:
            ema(kept, current)
    assert (ema.records, ema.replays) == (len(pairs), 2 * len(pairs))
    for (kept, _), want in zip(pairs, expected):
        np.testing.assert_allclose(kept.numpy(), want, rtol=1e-6)


def test_a_module_that_keeps_its_last_output_costs_no_step_a_recording():
    class Logged(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(2, 2)

        def forward(self, x):
            y = self.layer(x)
            self.last = y.detach()              # for inspection, every call
            return y

    logged = Logged()
    step = gpugrad.compile(lambda x: logged(x).sum())
    for _ in range(5):
        step(gpugrad.ones(1, 2))
        logged(gpugrad.ones(1, 2))              # eagerly too, between compiled calls
    assert (step.records, step.replays) == (1, 4)


# ---------------------------------------------------------------------- sixth review's cases
def test_a_tensor_two_attributes_hold_is_read_afresh_when_either_is_replaced():
    class Scaled(nn.Module):
        def __init__(self, scale):
            super().__init__()
            self.scale = scale

        def forward(self, x):
            return x * self.scale

    got = []
    for compiled in (False, True):
        shared = gpugrad.tensor([1.0, 2.0])
        a, b = Scaled(shared), Scaled(shared)           # b set it last
        step = lambda x: a(x).sum()                     # noqa: E731
        run = gpugrad.compile(step) if compiled else step
        values = [run(gpugrad.ones(2)).item()]
        a.scale = gpugrad.tensor([10.0, 10.0])
        values.append(run(gpugrad.ones(2)).item())
        got.append(values)
        assert b.scale is shared                        # (b still holds it)
    assert got[0] == got[1] == [3.0, 20.0]


def test_a_buffer_another_module_also_holds_is_that_buffer_again_as_an_input():
    got = []
    for compiled in (False, True):
        module, other = nn.Module(), nn.Module()
        module.register_buffer("b", gpugrad.tensor([1.0, 2.0]))
        other.ref = module.b                            # a later alias
        step = lambda t, x: (t * x + module.b).sum()    # noqa: E731
        run = gpugrad.compile(step) if compiled else step
        got.append([run(module.b, gpugrad.ones(2)).item(),
                    run(gpugrad.tensor([5.0, 5.0]), gpugrad.ones(2)).item()])
    assert got[0] == got[1] == [6.0, 13.0]


def test_programs_for_parameters_that_died_are_dropped_and_warn_nothing():
    import gc
    import warnings
    import weakref

    @gpugrad.compile
    def ema(kept, current):
        with gpugrad.no_grad():
            kept.mul_(0.9).add_(current * 0.1)
        return kept.sum()

    models = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # 40 recordings, each a new parameter's
        for _ in range(20):
            a, b = nn.Linear(3, 3), nn.Linear(3, 3)
            for _ in range(2):
                for kept, current in zip(a.parameters(), b.parameters()):
                    ema(kept, current)
            models.append(weakref.ref(a))
            del a, b, kept, current
    gc.collect()
    assert (ema.records, ema.replays) == (40, 40)
    assert not ema._programs and not any(m() is not None for m in models)


# ---------------------------------------------------------------------- seventh review's cases
def test_a_recurrent_state_kept_on_a_module_and_passed_back_in_replays():
    gpugrad.manual_seed(0)
    cell = nn.Linear(3, 3)
    holder = nn.Module()
    holder.h = gpugrad.zeros(1, 3)
    step = gpugrad.compile(lambda h, x: cell(h + x).tanh())
    eager_h = holder.h
    for _ in range(6):
        holder.h = step(holder.h, gpugrad.ones(1, 3))
        eager_h = cell(eager_h + gpugrad.ones(1, 3)).tanh().detach()
    np.testing.assert_array_equal(holder.h.numpy(), eager_h.numpy())
    assert (step.records, step.replays) == (1, 5)


def test_a_step_whose_signature_keeps_changing_warns_with_parameter_inputs_too():
    layer = nn.Linear(3, 3)
    step = gpugrad.compile(lambda w, x: (w.sum() * x).sum())
    with pytest.warns(RuntimeWarning, match="recorded 8 times"):
        for n in range(1, 9):
            step(layer.weight, gpugrad.ones(n))


def test_a_program_for_a_parameter_keeps_neither_it_nor_its_module_alive():
    import gc
    import weakref

    class Scaled(nn.Linear):
        def __init__(self):
            super().__init__(3, 3)
            self.scale = gpugrad.tensor(2.0)    # read through an attribute guard

        def forward(self, x):
            return super().forward(x) * self.scale

    current = {}
    step = gpugrad.compile(lambda w, x: (current["module"](x) * w.sum()).sum())
    refs = []
    for _ in range(5):
        current["module"] = Scaled()
        step(current["module"].weight, gpugrad.ones(2, 3))
        refs.append(weakref.ref(current.pop("module")))
    gc.collect()
    assert step.records == 5 and not step._programs
    assert not any(r() is not None for r in refs)
