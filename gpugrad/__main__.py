"""``python -m gpugrad train ...``: the same as the ``gpugrad`` command."""

import sys

from .cli import main

sys.exit(main())
