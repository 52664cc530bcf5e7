"""Random gpugrad programs as plain data, printed as gpugrad code and run two ways: by
gpugrad (the printed code itself, executed) and by an independent float64 NumPy interpreter.

A ``Program`` is a list of ``Step``s over numbered values: the inputs (leaf tensors, most of
them requiring grad) and the value each step defines. An in-place step (``v3.mul_(x0)``,
``v3[0] = x1``) defines its target anew. The op catalogue is ``random_programs_ops.OPS``;
the hypothesis generator is ``random_programs_gen.programs``; the checks are in
``random_programs_checks``; ``random_programs_run.run_tester`` runs them. The tests are
tests/test_random_programs*.py.

Example::

    program = Program(names=["x0", "v1"], inputs=[Input(0, np.array([0.5, 1.5]), True)],
                      steps=[Step("exp", (0,), {}, 1)], output=1, weights=np.ones(2))
    print(program)                        # runnable gpugrad code
    run_numpy(program, program.arrays())  # the reference output, exp([0.5, 1.5])
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

import gpugrad
from random_programs_ops import OPS, array_code

HEADER = ("import numpy as np\n"
          "import gpugrad as G\n"
          "import gpugrad.nn.functional as F\n")


@dataclass
class Step:
    """``out = OPS[op](*values[args], **params)``; in-place ops write into ``args[0]``,
    which is then also ``out``."""

    op: str
    args: tuple
    params: dict
    out: int


@dataclass
class Input:
    """Value ``value`` is a leaf tensor holding ``array`` (float64)."""

    value: int
    array: np.ndarray
    requires_grad: bool = True


@dataclass
class Program:
    names: list
    inputs: list
    steps: list
    output: int
    weights: np.ndarray            # the output's cotangent: loss = sum(output * weights)
    notes: dict = field(default_factory=dict)

    def arrays(self) -> list:
        return [i.array for i in self.inputs]

    def grad_inputs(self) -> list:
        """Positions (in ``inputs``) of the inputs that require grad."""
        return [k for k, i in enumerate(self.inputs) if i.requires_grad]

    def last_definitions(self) -> dict:
        """{value: index of the last step defining it} for the values steps define."""
        return {s.out: k for k, s in enumerate(self.steps)}

    def step_lines(self) -> list:
        return [step_code(self, s) for s in self.steps]

    def code(self, backward: bool = True) -> str:
        """The program as runnable gpugrad code (float64 inputs, then the steps)."""
        lines = [HEADER]
        for i in self.inputs:
            grad = ", requires_grad=True" if i.requires_grad else ""
            lines.append(f"{self.names[i.value]} = G.tensor({array_code(i.array)}, "
                         f"dtype='float64'{grad})")
        lines += self.step_lines()
        lines.append(f"out = {self.names[self.output]}")
        if backward:
            lines.append(f"out.backward(G.tensor({array_code(self.weights)}, "
                         f"dtype='float64'))")
            used = [self.names[i.value] for i in self.inputs if i.requires_grad]
            lines.append(f"print({', '.join(n + '.grad' for n in used)})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "\n" + self.code() + "\n"

    def compiled(self):
        """The steps as one code object (cached), run by ``run_gpugrad``."""
        if "_compiled" not in self.notes:
            source = "\n".join(self.step_lines()) or "pass"
            self.notes["_compiled"] = compile(source, "<random program>", "exec")
        return self.notes["_compiled"]


def step_code(program: Program, step: Step) -> str:
    names = [program.names[a] for a in step.args]
    text = OPS[step.op].code(names, step.params)
    if OPS[step.op].inplace:
        return text
    return f"{program.names[step.out]} = {text}"


# ---------------------------------------------------------------------------------------------
# The NumPy interpreter (the reference)
# ---------------------------------------------------------------------------------------------

def run_numpy(program: Program, arrays, perturb=None, freeze=None, all_values=False,
              patterns=None):
    """The program's output in float64 NumPy, from input ``arrays`` (one per input).

    ``perturb=(k, delta)`` adds ``delta`` to the value step ``k`` defines, right after it;
    ``freeze=(k, constant)`` replaces that value by ``constant`` (so nothing flows through
    it). ``patterns`` ({step: pattern}, from ``selection_patterns``) fixes which elements
    max/min/maximum/minimum select, ties sharing equally. With ``all_values`` returns the
    list of every value's final array instead."""
    values = [None] * len(program.names)
    for i, a in zip(program.inputs, arrays):
        values[i.value] = np.asarray(a, dtype=np.float64)
    for k, step in enumerate(program.steps):
        args = [values[a] for a in step.args]
        if patterns is not None and k in patterns:
            out = OPS[step.op].frozen(args, step.params, patterns[k])
        else:
            out = OPS[step.op].numpy(args, step.params)
        out = np.asarray(out, dtype=np.float64)
        if perturb is not None and perturb[0] == k:
            out = out + perturb[1]
        if freeze is not None and freeze[0] == k:
            out = np.asarray(freeze[1], dtype=np.float64)
        values[step.out] = out
    return values if all_values else values[program.output]


def selection_patterns(program: Program, arrays) -> dict:
    """{step: pattern} for the steps that select (max, min, maximum, minimum), at ``arrays``."""
    values = [None] * len(program.names)
    for i, a in zip(program.inputs, arrays):
        values[i.value] = np.asarray(a, dtype=np.float64)
    patterns = {}
    for k, step in enumerate(program.steps):
        op, args = OPS[step.op], [values[a] for a in step.args]
        if op.pattern is not None:
            patterns[k] = op.pattern(args, step.params)
        values[step.out] = np.asarray(op.numpy(args, step.params), dtype=np.float64)
    return patterns


# ---------------------------------------------------------------------------------------------
# The gpugrad runner: the printed code, executed
# ---------------------------------------------------------------------------------------------

def leaf_tensors(program: Program, device="cpu", grad=True) -> list:
    """Fresh leaf tensors for the inputs; ``requires_grad`` as the program says (and
    ``grad`` allows)."""
    return [gpugrad.tensor(i.array, dtype="float64", device=device,
                           requires_grad=grad and i.requires_grad) for i in program.inputs]


@contextlib.contextmanager
def on_device(device):
    previous = gpugrad.get_default_device()
    gpugrad.set_default_device(device)
    try:
        yield
    finally:
        gpugrad.set_default_device(previous)


def run_gpugrad(program: Program, tensors, device="cpu") -> dict:
    """Execute the program's code with its inputs bound to ``tensors``; returns the
    namespace ({name: tensor}) after the last step, with the output under "out"."""
    namespace = {"np": np, "G": gpugrad, "F": gpugrad.nn.functional}
    for i, t in zip(program.inputs, tensors):
        namespace[program.names[i.value]] = t
    with on_device(device):
        exec(program.compiled(), namespace)
    namespace["out"] = namespace[program.names[program.output]]
    return namespace


def gpugrad_function(program: Program, positions, tensors, device="cpu"):
    """f(*xs): the program's output with the inputs at ``positions`` replaced by ``xs`` and
    the others bound to ``tensors`` (closed over, as a model closes over its parameters)."""
    def f(*xs):
        bound = list(tensors)
        for p, x in zip(positions, xs):
            bound[p] = x
        return run_gpugrad(program, bound, device)["out"]
    return f


def weights_tensor(program: Program, device="cpu"):
    return gpugrad.tensor(program.weights, dtype="float64", device=device)


def numpy_of(t) -> np.ndarray | None:
    return None if t is None else np.asarray(t.numpy(), dtype=np.float64)
