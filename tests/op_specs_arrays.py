"""Op table specs (tests/op_specs.py) for the records of this area; op_specs.py adds
them to SPECS. The composites of rearrange.py, scatter_ops.py, contractions.py and
statistics.py are tested in tests/test_rearrange.py, test_scatter_ops.py and
test_contractions_statistics.py."""

import numpy as np

from op_specs import positive, real, spec

from gpugrad.ops import statistics


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
]
