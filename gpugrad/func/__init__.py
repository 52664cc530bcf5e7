"""JAX-style function transforms: grad, value_and_grad, vjp, jvp (transforms.py); jacrev,
jacfwd, jacobian, hessian, hvp (jacobians.py); vmap (vmap.py); grad_and_value, linearize
(linearize.py); functional_call, stack_module_state, replace_all_batch_norm_modules_
(functional_call.py).

Each takes a Python function of tensors and returns a function (or values). Arguments and
outputs may be tensors, NumPy/CuPy arrays, Python floats, or tuples/lists/dicts of them;
results come back in the same structure, as tensors (dicts in their own key order, as
torch.func's). They compose (``grad(grad(f))``, ``jacfwd(jacrev(f))``, ``vmap(grad(f))``)
and work with Python control flow, since gpugrad is define-by-run (except on batched values
inside ``vmap``).

Example (the seed's JAX example)::

    >>> from gpugrad.func import grad, hessian, vmap
    >>> def f(x, y): return x**2 * y + y**3
    >>> grad(f, argnums=(0, 1))(2.0, 3.0)           # (2xy, x^2 + 3y^2)
    (tensor(12., device='cpu', dtype=float32), tensor(31., device='cpu', dtype=float32))
    >>> hessian(f)(2.0, 3.0)                        # d2f/dx2 = 2y
    tensor(6., device='cpu', dtype=float32)
    >>> vmap(grad(f))(gpugrad.tensor([1.0, 2.0]), gpugrad.tensor([3.0, 3.0]))   # 2xy per pair
    tensor([ 6., 12.], device='cpu', dtype=float32)
"""

from .functional_call import functional_call, replace_all_batch_norm_modules_, stack_module_state
from .jacobians import hessian, hvp, jacfwd, jacobian, jacrev
from .linearize import grad_and_value, linearize
from .transforms import grad, jvp, value_and_grad, vjp
from .vmap import vmap

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "jacobian", "hessian",
           "hvp", "vmap", "grad_and_value", "linearize", "functional_call",
           "stack_module_state", "replace_all_batch_norm_modules_"]
