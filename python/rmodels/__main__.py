"""``python -m rmodels``: the command line (:mod:`rmodels.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
