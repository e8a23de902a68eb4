from __future__ import annotations

import sys

from cryptoflow_ingest.cli import main

sys.exit(main())
