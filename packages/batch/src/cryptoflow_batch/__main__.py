"""``python -m cryptoflow_batch`` is ``cryptoflow-batch``."""

from __future__ import annotations

import sys

from cryptoflow_batch.cli import main

sys.exit(main())
