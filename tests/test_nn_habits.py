"""PyTorch habits of gpugrad.nn: Module.apply, requires_grad_, buffers, forward hooks, and
copying/pickling modules that have them (gradient clipping is tested in test_nn.py).

References: values derived by hand, float64 NumPy, and (where the venv has it) PyTorch as an
optional extra check."""

import copy
import pickle

import numpy as np
import pytest

import gpugrad
from gpugrad import nn
from gpugrad.nn.utils import hooks as hooks_module


# ---------------------------------------------------------------------------------- apply etc.
def test_apply_visits_children_first_then_self_and_returns_self():
    inner = nn.Sequential(nn.ReLU(), nn.Linear(2, 2))
    model = nn.Sequential(nn.Linear(2, 2), inner)
    seen = []
    assert model.apply(seen.append) is model
    assert seen == [model[0], inner[0], inner[1], inner, model]     # as torch.nn.Module.apply

    def init(m):
        if isinstance(m, nn.Linear):
            with gpugrad.no_grad():
                m.weight.fill_(0.5)
    model.apply(init)
    assert all((m.weight.numpy() == 0.5).all() for m in (model[0], inner[1]))


def test_requires_grad_freezes_and_unfreezes():
    model = nn.MLP([3, 4, 2])
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.layers[2].requires_grad_()                   # train the last layer only
    model(gpugrad.randn(5, 3)).sum().backward()
    grads = {name: p.grad is not None for name, p in model.named_parameters()}
    assert grads == {"layers.0.weight": False, "layers.0.bias": False,
                     "layers.2.weight": True, "layers.2.bias": True}


# ---------------------------------------------------------------------------------- buffers
class Norm(nn.Module):
    """Keeps a running mean of its inputs (a buffer), a step count (an int64 buffer) and a
    scratch buffer that is not saved."""

    def __init__(self, n):
        super().__init__()
        self.scale = nn.Parameter(gpugrad.ones(n))
        self.register_buffer("running_mean", gpugrad.zeros(n))
        self.register_buffer("steps", gpugrad.zeros((), dtype="int64"))
        self.register_buffer("scratch", gpugrad.ones(n), persistent=False)
        self.register_buffer("unused", None)

    def forward(self, x):
        if self.training:
            self.running_mean = self.running_mean * 0.9 + x.detach().mean(axis=0) * 0.1
            self.steps = self.steps + 1
        return (x - self.running_mean) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = Norm(3)
        self.head = nn.Linear(3, 2)
        self.register_buffer("offset", gpugrad.full((2,), 0.5))

    def forward(self, x):
        return self.head(self.norm(x)) + self.offset


def test_buffers_are_listed_saved_and_not_parameters():
    net = Net()
    assert [n for n, _ in net.named_buffers()] == [
        "offset", "norm.running_mean", "norm.steps", "norm.scratch"]       # None skipped
    assert [n for n, _ in net.named_buffers(recurse=False)] == ["offset"]
    assert len(list(net.buffers())) == 4
    assert [n for n, _ in net.named_parameters()] == [
        "norm.scale", "head.weight", "head.bias"]
    # PyTorch's order: each module's parameters, then its persistent buffers, then children
    assert list(net.state_dict()) == ["offset", "norm.scale", "norm.running_mean",
                                      "norm.steps", "head.weight", "head.bias"]


def test_buffer_assignment_updates_the_buffer():
    net = Net()
    x = gpugrad.tensor([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]])
    net(x)
    np.testing.assert_allclose(net.norm.running_mean.numpy(), [0.2, 0.3, 0.4], rtol=1e-6)
    assert net.norm._buffers["running_mean"] is net.norm.running_mean
    assert net.state_dict()["norm.steps"].item() == 1
    np.testing.assert_allclose(net.state_dict()["norm.running_mean"].numpy(), [0.2, 0.3, 0.4],
                               rtol=1e-6)
    net.norm.scratch = None                            # None is allowed
    assert "norm.scratch" not in dict(net.named_buffers())
    with pytest.raises(TypeError, match="buffer 'running_mean'.*Tensor or None"):
        net.norm.running_mean = np.zeros(3)
    net.norm.running_mean = nn.Parameter(gpugrad.zeros(3))    # becomes a parameter
    assert "norm.running_mean" in dict(net.named_parameters())
    assert "norm.running_mean" not in dict(net.named_buffers())
    del net.offset
    assert "offset" not in net.state_dict()


def test_register_buffer_errors_say_what_is_wrong():
    m = Norm(2)
    with pytest.raises(KeyError, match="no '.'"):
        m.register_buffer("a.b", gpugrad.zeros(1))
    with pytest.raises(KeyError, match="already has an attribute 'scale'"):
        m.register_buffer("scale", gpugrad.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None.*gpugrad.tensor"):
        m.register_buffer("c", [1.0, 2.0])
    with pytest.raises(TypeError, match="string"):
        m.register_buffer(3, gpugrad.zeros(1))

    class Early(nn.Module):
        def __init__(self):
            self.register_buffer("x", gpugrad.zeros(1))
    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Early()


def test_load_state_dict_loads_buffers_strictly():
    a, b = Net(), Net()
    a(gpugrad.randn(4, 3))
    a(gpugrad.randn(4, 3))
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for name, value in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[name].numpy(), value.numpy(), name)
    assert b.norm.steps.item() == 2 and b.norm.steps.dtype == np.int64
    state = a.state_dict()
    del state["norm.running_mean"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "norm.running_mean"'):
        b.load_state_dict(state)
    state["norm.scratch"] = gpugrad.zeros(3)           # not persistent: unexpected
    with pytest.raises(KeyError, match=r'Unexpected key\(s\) in state_dict: "norm.scratch"'):
        b.load_state_dict(state)
    assert b.load_state_dict(state, strict=False) == (["norm.running_mean"], ["norm.scratch"])
    wrong = a.state_dict()
    wrong["norm.running_mean"] = gpugrad.zeros(4)
    with pytest.raises(ValueError, match=r"size mismatch for norm.running_mean: .*\(4,\).*\(3,\)"):
        b.load_state_dict(wrong)


def test_to_moves_buffers_and_casts_only_floating_ones(device):
    net = Net()
    params = list(net.parameters())
    assert net.to(device) is net
    net.to(gpugrad.float64)                             # a dtype alone, as PyTorch's .to
    assert [p is q for p, q in zip(params, net.parameters())] == [True] * 3
    assert all(str(t.device).startswith(device) for t in net.state_dict().values())
    assert net.norm.running_mean.dtype == np.float64 and net.offset.dtype == np.float64
    assert net.norm.steps.dtype == np.int64 and net.norm.scratch.dtype == np.float64
    assert net.norm._buffers["running_mean"] is net.norm.running_mean
    out = net(gpugrad.randn(2, 3, dtype="float64", device=device))
    assert out.dtype == np.float64 and str(out.device).startswith(device)
    with pytest.raises(TypeError, match="floating-point dtypes only"):
        net.to(dtype="int32")


def test_buffers_and_state_dict_keys_agree_with_pytorch():
    torch = pytest.importorskip("torch")

    class TorchNorm(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(n))
            self.register_buffer("running_mean", torch.zeros(n))
            self.register_buffer("steps", torch.zeros((), dtype=torch.int64))
            self.register_buffer("scratch", torch.ones(n), persistent=False)
            self.register_buffer("unused", None)

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = TorchNorm(3)
            self.head = torch.nn.Linear(3, 2)
            self.register_buffer("offset", torch.full((2,), 0.5))

    ours, theirs = Net(), TorchNet()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    theirs.to(torch.float64)
    ours.to(gpugrad.float64)
    assert [str(b.dtype) for b in ours.buffers()] == [
        str(b.dtype).replace("torch.", "") for b in theirs.buffers()]


# ---------------------------------------------------------------------------------- hooks
def test_forward_hook_sees_args_and_output_and_can_replace_it():
    layer = nn.Linear(3, 2)
    calls = []

    def watch(module, args, output):
        calls.append((module, args, output))

    handle = layer.register_forward_hook(watch)
    x = gpugrad.randn(4, 3)
    y = layer(x)
    (module, args, output), = calls
    assert module is layer and args[0] is x and output is y
    doubled = layer.register_forward_hook(lambda m, a, out: out * 2)
    np.testing.assert_allclose(layer(x).numpy(), 2 * layer.forward(x).numpy(), rtol=1e-6)
    assert len(calls) == 2 and calls[1][2] is not calls[0][2]
    handle.remove()
    handle.remove()                                     # removing twice is harmless
    doubled.remove()
    np.testing.assert_array_equal(layer(x).numpy(), layer.forward(x).numpy())
    assert len(calls) == 2 and not layer._forward_hooks


def test_forward_pre_hook_replaces_args_wrapping_a_single_value():
    layer = nn.Identity()
    x = gpugrad.tensor([1.0, 2.0])
    with layer.register_forward_pre_hook(lambda m, args: args[0] + 1):   # not a tuple
        assert layer(x).numpy().tolist() == [2.0, 3.0]
    with layer.register_forward_pre_hook(lambda m, args: (args[0] * 10,)):
        assert layer(x).numpy().tolist() == [10.0, 20.0]
    with layer.register_forward_pre_hook(lambda m, args: None):
        assert layer(x) is x
    assert not layer._forward_pre_hooks                # the with blocks removed them

    class Add(nn.Module):
        def forward(self, a, b=0.0):
            return a + b
    add = Add()
    add.register_forward_pre_hook(lambda m, args, kwargs: ((args[0],), {"b": 5.0}),
                                  with_kwargs=True)
    seen = []
    add.register_forward_hook(lambda m, args, kwargs, out: seen.append(kwargs),
                              with_kwargs=True)
    assert add(x, b=1.0).numpy().tolist() == [6.0, 7.0] and seen == [{"b": 5.0}]


def test_hooks_run_in_order_and_prepend_goes_first():
    order = []
    layer = nn.Identity()
    layer.register_forward_pre_hook(lambda m, a: order.append("pre1"))
    layer.register_forward_pre_hook(lambda m, a: order.append("pre0"), prepend=True)
    layer.register_forward_hook(lambda m, a, o: order.append("post1"))
    layer.register_forward_hook(lambda m, a, o: order.append("post0"), prepend=True)
    layer(gpugrad.ones(1))
    assert order == ["pre0", "pre1", "post0", "post1"]
    with pytest.raises(TypeError, match="callable"):
        layer.register_forward_hook("not a function")


def test_hooks_inside_sequential_run_instead_of_the_fused_pair():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = gpugrad.randn(5, 3, requires_grad=True)
    plain = model(x)
    plain.sum().backward()
    plain_grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    seen = []
    model[0].register_forward_hook(lambda m, a, out: seen.append(out.numpy().copy()))
    hooked = model(x)
    hooked.sum().backward()
    assert len(seen) == 1 and seen[0].shape == (5, 4)             # the Linear's own output
    np.testing.assert_allclose(seen[0], x.numpy() @ model[0].weight.numpy().T
                               + model[0].bias.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(hooked.numpy(), plain.numpy(), rtol=1e-6)
    for p, g in zip(model.parameters(), plain_grads):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6)


def test_a_module_without_hooks_calls_forward_directly(monkeypatch):
    def refuse(*args):
        raise AssertionError("the hooked path ran for a module without hooks")
    monkeypatch.setattr("gpugrad.nn.module.call_with_hooks", refuse)
    assert nn.MLP([2, 3, 1])(gpugrad.ones(4, 2)).shape == (4, 1)
    assert hooks_module.call_with_hooks is not refuse


def test_forward_hooks_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    gpugrad.manual_seed(0)
    ours = nn.Linear(3, 2, dtype="float64")
    theirs = torch.nn.Linear(3, 2, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    x = np.arange(6.0).reshape(2, 3)
    for module in (ours, theirs):
        module.register_forward_pre_hook(lambda m, args: args[0] * 2)       # not a tuple
        module.register_forward_hook(lambda m, args, out: out + args[0].sum())
    expected = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(gpugrad.tensor(x)).numpy(), expected, rtol=1e-12)


# ---------------------------------------------------------------------------------- copies
def add_one(module, args, output):
    """A module-level (so picklable) forward hook."""
    return output + 1


def scale_input(module, args):
    return (args[0] * 3,)


def hooked_net():
    net = Net()
    net.register_forward_hook(add_one)
    net.head.register_forward_pre_hook(scale_input)
    return net


def check_same_model(original, other):
    x = gpugrad.randn(2, 3)
    original.eval()
    other.eval()
    np.testing.assert_allclose(other(x).numpy(), original(x).numpy(), rtol=1e-6)
    for (name, a), (name_b, b) in zip(original.state_dict().items(),
                                      other.state_dict().items()):
        assert name == name_b
        np.testing.assert_array_equal(a.numpy(), b.numpy(), name)
    assert [n for n, _ in other.named_buffers()] == [n for n, _ in original.named_buffers()]
    assert other.norm._buffers["running_mean"] is other.norm.running_mean
    assert other.norm.running_mean is not original.norm.running_mean


def test_deepcopy_keeps_buffers_and_hooks():
    net = hooked_net()
    net(gpugrad.randn(4, 3))
    clone = copy.deepcopy(net)
    check_same_model(net, clone)
    net.train()
    clone.train()
    clone(gpugrad.ones(1, 3))                            # the copy's buffers are its own
    assert clone.norm.steps.item() == 2 and net.norm.steps.item() == 1
    handle = net.register_forward_hook(add_one)
    other = copy.deepcopy(net)
    handle.remove()                                      # removes it from the original only
    assert len(net._forward_hooks) == 1 and len(other._forward_hooks) == 2


def test_pickle_keeps_buffers_and_picklable_hooks():
    net = hooked_net()
    with gpugrad.no_grad():
        net(gpugrad.randn(4, 3))                        # buffers change; no graph
    check_same_model(net, pickle.loads(pickle.dumps(net)))


def test_pickle_after_a_backward_pass():
    # needs Tensor pickling of parameters that took part in a backward pass (tensor.py,
    # issue 14's pickling item): fails with "cannot pickle 'weakref.ReferenceType'" until then
    net = hooked_net()
    net(gpugrad.randn(4, 3)).sum().backward()
    copied = pickle.loads(pickle.dumps(net))
    check_same_model(net, copied)
    assert copied.head.weight.requires_grad


def test_modules_pickled_before_buffers_existed_still_load():
    layer = nn.Linear(2, 2)
    state = dict(layer.__dict__)
    for name in ("_buffers", "_forward_hooks", "_forward_pre_hooks",
                 "_non_persistent_buffers_set", "_forward_hooks_with_kwargs",
                 "_forward_pre_hooks_with_kwargs"):
        del state[name]
    old = nn.Linear.__new__(nn.Linear)
    old.__setstate__(state)
    assert list(old.buffers()) == [] and old(gpugrad.ones(1, 2)).shape == (1, 2)
    old.register_forward_hook(add_one)
    assert old(gpugrad.ones(1, 2)).shape == (1, 2)


def test_register_parameter_none_keeps_a_slot_that_takes_parameters_only():
    module = nn.Module()
    module.register_parameter("bias", None)
    assert module.bias is None and list(module.named_parameters()) == []
    with pytest.raises(TypeError, match=r"cannot assign a Tensor to parameter 'bias'.*"
                                        r"nn\.Parameter"):
        module.bias = gpugrad.zeros(2)
    module.bias = nn.Parameter(gpugrad.zeros(2))
    assert [name for name, _ in module.named_parameters()] == ["bias"]
    module.bias = None
    assert module.bias is None and list(module.state_dict()) == []
    with pytest.raises(TypeError, match="a Parameter or None is expected"):
        module.register_parameter("w", gpugrad.ones(1))
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        layer.weight = gpugrad.zeros(2, 2)       # would silently stop training it
