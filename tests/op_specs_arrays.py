"""Op table specs (tests/op_specs.py) for the records of this area; op_specs.py adds
them to SPECS. The composites of rearrange.py, scatter_ops.py, contractions.py and
statistics.py are tested in tests/test_rearrange.py, test_scatter_ops.py and
test_contractions_statistics.py; scatter_reduce.py (its record and composites) in
test_scatter_reduce.py too."""

import numpy as np

from op_specs import distinct, nonzero, positive, real, spec

import gpugrad
from gpugrad.ops import scatter_ops, scatter_reduce, statistics

# Places for scatter_reduce along dim 0 of a (3, 4) input: some written twice or thrice,
# some (row 1 of column 3, row 2 of column 1...) not at all.
ROWS = np.array([[0, 1, 2, 0], [2, 0, 0, 0], [0, 0, 0, 2]])
COLUMNS = np.array([[4, 0], [1, 1], [0, 4]])         # dim 1 of a (3, 5) input


def np_scatter_reduce(x, dim, index, src, reduce, include_self=True):
    """torch.scatter_reduce by a loop over the index (float64 NumPy; the reference)."""
    out = np.array(x, dtype=np.float64)
    gathered = {}
    for pos in np.ndindex(*index.shape):
        place = list(pos)
        place[dim] = index[pos]
        gathered.setdefault(tuple(place), []).append(src[pos])
    pick = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max, "amin": np.min}
    for place, values in gathered.items():
        values = ([out[place]] if include_self else []) + values
        out[place] = pick[reduce](values)
    return out


def _reduced(dim, index, reduce, include_self=True):
    def fn(x, src):
        return scatter_reduce.scatter_reduce(x, dim, gpugrad.tensor(index), src, reduce,
                                             include_self=include_self)
    return fn


def _reference(dim, index, reduce, include_self=True):
    return lambda x, src: np_scatter_reduce(x, dim, index, src, reduce, include_self)


def _np_logcumsumexp(x, axis):
    return np.logaddexp.accumulate(x, axis=axis)


SPECS: list = [
    spec("cumprod_dim1", "CumProd", lambda x: statistics.cumprod(x, 1),
         lambda x: np.cumprod(x, 1), real((3, 4))),
    spec("cumprod_negative_values_last_method", "CumProd", lambda x: x.cumprod(-1),
         lambda x: np.cumprod(x, -1), real((2, 5), low=-1.5, high=1.5)),
    spec("cumprod_dim0_positive", "CumProd", lambda x: statistics.cumprod(x, dim=0),
         lambda x: np.cumprod(x, 0), positive((4, 2))),
    spec("cumprod_0d", "CumProd", lambda x: statistics.cumprod(x, 0), lambda x: x * 1.0,
         real(())),
    spec("logcumsumexp_dim0", "LogCumSumExp", lambda x: statistics.logcumsumexp(x, 0),
         lambda x: _np_logcumsumexp(x, 0), real((5, 3))),
    spec("logcumsumexp_wide_range_method", "LogCumSumExp", lambda x: x.logcumsumexp(-1),
         lambda x: _np_logcumsumexp(x, -1), real((2, 6), low=-30.0, high=30.0)),
    spec("logcumsumexp_0d", "LogCumSumExp", lambda x: statistics.logcumsumexp(x, -1),
         lambda x: x * 1.0, real(())),
    # ---- scatter_reduce: "prod", "amax", "amin" are the record; "sum", "mean" composites
    spec("scatter_reduce_amax_dim0", "ScatterReduce", _reduced(0, ROWS, "amax"),
         _reference(0, ROWS, "amax"), distinct((3, 4)), distinct((3, 4))),
    spec("scatter_reduce_amin_exclude_self_dim1_wider_src", "ScatterReduce",
         _reduced(1, COLUMNS, "amin", False), _reference(1, COLUMNS, "amin", False),
         distinct((3, 5)), distinct((3, 3))),
    spec("scatter_reduce_amax_exclude_self_method", "ScatterReduce",
         lambda x, s: x.scatter_reduce(0, gpugrad.tensor(ROWS), s, "amax", include_self=False),
         _reference(0, ROWS, "amax", False), distinct((3, 4)), distinct((3, 4))),
    spec("scatter_reduce_prod_dim0", "ScatterReduce", _reduced(0, ROWS, "prod"),
         _reference(0, ROWS, "prod"), real((3, 4), low=-1.5, high=1.5), nonzero((3, 4))),
    spec("scatter_reduce_prod_exclude_self_dim1", "ScatterReduce",
         _reduced(1, COLUMNS, "prod", False), _reference(1, COLUMNS, "prod", False),
         real((3, 5)), real((3, 2))),
    spec("scatter_legacy_multiply", "ScatterReduce",
         lambda x, s: scatter_ops.scatter(x, 0, gpugrad.tensor(ROWS), s, reduce="multiply"),
         _reference(0, ROWS, "prod"), real((3, 4)), positive((3, 4))),
    spec("scatter_reduce_sum_exclude_self", ("ScatterAdd", "ZeroAt"),
         _reduced(0, ROWS, "sum", False), _reference(0, ROWS, "sum", False),
         real((3, 4)), real((3, 4))),
    spec("scatter_reduce_mean_dim1", ("ScatterAdd", "GetItem"), _reduced(1, COLUMNS, "mean"),
         _reference(1, COLUMNS, "mean"), real((3, 5)), real((3, 3))),
    spec("scatter_reduce_mean_exclude_self", ("ScatterAdd", "ZeroAt"),
         _reduced(0, ROWS, "mean", False), _reference(0, ROWS, "mean", False),
         real((3, 4)), real((3, 4))),
]
