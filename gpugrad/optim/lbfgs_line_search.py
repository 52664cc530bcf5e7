"""The strong-Wolfe line search of ``LBFGS(line_search_fn="strong_wolfe")``, as PyTorch's
(itself ported from Torch7's ``lswolfe.lua``): bracket a step that satisfies both Wolfe
conditions, then zoom in on it by safeguarded cubic interpolation.

Scalars are Python floats; ``x``, ``d`` and gradients are flat raw arrays (NumPy or CuPy).

Example (the cubic through f(0) = 0, f'(0) = -1 and f(1) = 0, f'(1) = 1, i.e. x^2 - x, has
its minimum at 0.5)::

    >>> from gpugrad.optim.lbfgs_line_search import cubic_interpolate
    >>> cubic_interpolate(0.0, 0.0, -1.0, 1.0, 0.0, 1.0)
    0.5
"""

from __future__ import annotations

import numpy as np

__all__ = ["cubic_interpolate", "strong_wolfe"]


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2,
    clipped to ``bounds`` (default: between x1 and x2); the bounds' midpoint when the cubic
    has no minimum.

    Example::

        >>> from gpugrad.optim.lbfgs_line_search import cubic_interpolate
        >>> cubic_interpolate(0.0, 0.0, -1.0, 1.0, 0.0, 1.0, bounds=(0.6, 2.0))
        0.6
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    # with x2 the farther point: d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2),
    # d2 = sqrt(d1^2 - g1 g2), min_pos = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2);
    # in NumPy float64, so that a degenerate 0 / 0 is NaN as in PyTorch's tensors
    x1, f1, g1, x2, f2, g2 = map(np.float64, (x1, f1, g1, x2, f2, g2))
    with np.errstate(all="ignore"):
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        d2_square = d1 ** 2 - g1 * g2
        if d2_square >= 0:
            d2 = np.sqrt(d2_square)
            if x1 <= x2:
                min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            else:
                min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
            return float(min(max(min_pos, xmin_bound), xmax_bound))
    return float((xmin_bound + xmax_bound) / 2.0)


def _dot(a, b) -> float:
    return float(a.dot(b))


def strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                 max_ls=25):
    """Search along ``d`` from the parameters ``x`` (loss ``f``, flat gradient ``g``,
    directional derivative ``gtd = g . d``) for a step t with
    f(x + t d) <= f + c1 t gtd and |g(x + t d) . d| <= -c2 gtd, starting at ``t``, with at
    most ``max_ls`` more evaluations; ``obj_func(x, t, d)`` gives (loss, flat gradient) at
    x + t d. Returns (loss, flat gradient, t, evaluations).

    Example::

        >>> from gpugrad.optim.lbfgs_line_search import strong_wolfe
        >>> def obj(x, t, d):                   # f(y) = |y|^2 / 2, its gradient y
        ...     y = x + t * d
        ...     return float((y * y).sum()) / 2, y
        >>> x = np.array([2.0, 0.0])
        >>> f, g, t, evals = strong_wolfe(obj, x, 2.0, -x, 2.0, x, -4.0)
        >>> f, t, evals                       # t = 2 overshoots; the cubic step lands on 1
        (0.0, 1.0, 2)
    """
    d_norm = float(abs(d).max())
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = _dot(g_new, d)

    # bracket an interval containing a point satisfying the Wolfe criteria
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    bracket_gtd = None
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # extrapolate: the cubic's minimum, between 1.01 t - 0.01 t_prev and 10 t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                              bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

    if ls_iter == max_ls:               # out of evaluations
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point in it satisfies the criteria
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                              bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial too close to an end of the bracket (twice running, or outside it) moves
        # to a tenth of the bracket's length from that end
        high, low = max(bracket), min(bracket)
        eps = 0.1 * (high - low)
        if min(high - t, t - low) < eps:
            if insuf_progress or t >= high or t <= low:
                t = high - eps if abs(t - high) < abs(t - low) else low + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # not a sufficient decrease, or not below the low end: the new high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True             # the Wolfe conditions hold
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old high end becomes the new low end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals
