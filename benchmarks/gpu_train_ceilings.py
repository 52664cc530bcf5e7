"""What benchmarks/gpu_training.py compares its steps with: the matmul ceiling of each
precision (TFLOP/s of an 8192^3 product, the best of CuPy and torch), and the fused
optimizers' bandwidth: SGD momentum (5 * 4 bytes per parameter: read p, g, buf, write p,
buf) and Adam (7 * 4) over a 100M-parameter model (25 float32 tensors of 4M), with the
fused kernels on and off (and torch's foreach SGD / fused Adam), against the measured
device-to-device copy bandwidth (gpu_common.copy_bandwidth).
"""

from __future__ import annotations

import traceback

from gpu_common import Problems, cupy_clock, median_ms, set_torch_tf32, torch_clock
from gpu_train_case import TARGET, free_memory
from gpu_train_gpugrad import gg_clock, gg_sync, set_gg_precision

import gpugrad


def _cupy_matmul_tflops(n: int, dtype, reps: int) -> float:
    import cupy
    a = cupy.random.random((n, n), dtype=cupy.float32).astype(dtype)
    b = cupy.random.random((n, n), dtype=cupy.float32).astype(dtype)
    c = cupy.empty_like(a)
    ms = median_ms(cupy_clock(), lambda: cupy.matmul(a, b, out=c), reps,
                   cupy.cuda.Device().synchronize)
    return 2 * n**3 / ms / 1e9


def _torch_matmul_tflops(torch, n: int, dtype, reps: int) -> float:
    a = torch.rand(n, n, device="cuda").to(dtype)
    b = torch.rand(n, n, device="cuda").to(dtype)
    c = torch.empty_like(a)
    ms = median_ms(torch_clock(torch), lambda: torch.matmul(a, b, out=c), reps,
                   torch.cuda.synchronize)
    return 2 * n**3 / ms / 1e9


def matmul_ceilings(torch, n: int = 8192, reps: int = 5) -> dict:
    """TFLOP/s of an n x n x n product: CuPy fp32, tf32 (gpugrad's "high"), fp16; torch the
    same. Each precision's ceiling is the best of the two libraries."""
    import cupy
    jobs = [("cupy fp32", lambda: _cupy_matmul_tflops(n, cupy.float32, reps), "highest"),
            ("cupy tf32", lambda: _cupy_matmul_tflops(n, cupy.float32, reps), "high"),
            ("cupy fp16", lambda: _cupy_matmul_tflops(n, cupy.float16, reps), "highest")]
    if torch is not None:
        jobs += [(f"torch {name}", lambda dtype=dtype: _torch_matmul_tflops(torch, n, dtype, reps),
                  tf32) for name, dtype, tf32 in (("fp32", torch.float32, False),
                                                  ("tf32", torch.float32, True),
                                                  ("fp16", torch.float16, False))]
    out = {}
    for name, measure, mode in jobs:
        try:
            if name.startswith("cupy"):
                set_gg_precision(mode)
            else:
                set_torch_tf32(torch, mode)
            out[name] = measure()
        except Exception as exc:
            print(f"!! matmul ceiling {name} failed: {type(exc).__name__}: {exc}", flush=True)
        finally:
            set_gg_precision("highest")
            if torch is not None:
                set_torch_tf32(torch, False)
    free_memory(torch)
    return out


def ceiling_for(ceilings: dict, precision: str):
    values = [v for k, v in ceilings.items() if k.endswith(precision)]
    return max(values) if values else None


def optimizer_bandwidth(torch, copy_gbs, tensors: int, numel: int, reps: int,
                        problems: Problems) -> list:
    """Step time and effective bandwidth of SGD momentum and Adam over ``tensors`` float32
    tensors of ``numel``, gpugrad fused and unfused, and torch foreach SGD / fused Adam.
    Returns the rows; a gpugrad failure goes to ``problems``."""
    rows, count = [], tensors * numel
    kinds = (("SGD momentum 0.9", 5 * 4), ("Adam", 7 * 4))

    def row(library, name, fused, ms, per_param):
        gbs = per_param * count / ms / 1e6
        rows.append({"library": library, "optimizer": name, "fused": fused, "ms": ms,
                     "bytes": per_param * count, "GB/s": gbs,
                     "fraction_of_copy": gbs / copy_gbs if copy_gbs else None})
        print(f"  {library} {name} fused={fused}: {ms:.3f} ms, {gbs:.0f} GB/s"
              + (f" = {gbs / copy_gbs:.0%} of copy" if copy_gbs else ""), flush=True)

    gpugrad.manual_seed(1)
    params = [gpugrad.nn.Parameter(gpugrad.randn(numel, device=TARGET.device))
              for _ in range(tensors)]
    for p in params:
        p.grad = gpugrad.randn(numel, device=TARGET.device) * 1e-3
    for name, per_param in kinds:
        for fused in (True, False):
            previous = gpugrad.cuda.set_fused(fused)
            try:
                opt = (gpugrad.optim.SGD(params, lr=1e-3, momentum=0.9) if name.startswith("SGD")
                       else gpugrad.optim.Adam(params, lr=1e-3))
                opt.step()                      # the first step makes the state
                ms = median_ms(gg_clock(), opt.step, reps, gg_sync)
                row("gpugrad", name, fused, ms, per_param)
            except Exception as exc:
                traceback.print_exc()
                problems.add(f"optimizer bandwidth, gpugrad {name} fused={fused}: "
                             f"{type(exc).__name__}: {exc}")
            finally:
                gpugrad.cuda.set_fused(previous)
                opt = None
                free_memory(torch)
    del params
    free_memory(torch)
    if torch is not None and TARGET.on_gpu:
        tparams = [torch.randn(numel, device="cuda", requires_grad=True) for _ in range(tensors)]
        for p in tparams:
            p.grad = torch.randn(numel, device="cuda") * 1e-3
        for name, per_param in kinds:
            try:
                if name.startswith("SGD"):
                    opt, how = torch.optim.SGD(tparams, lr=1e-3, momentum=0.9,
                                               foreach=True), "foreach"
                else:
                    opt, how = torch.optim.Adam(tparams, lr=1e-3, fused=True), "fused=True"
                opt.step()
                ms = median_ms(torch_clock(torch), opt.step, reps, torch.cuda.synchronize)
                row("torch", name, how, ms, per_param)
            except Exception as exc:
                print(f"  torch {name}: failed ({type(exc).__name__}: {exc})", flush=True)
            opt = None
            free_memory(torch)
        del tparams
        free_memory(torch)
    return rows
