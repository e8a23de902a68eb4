from __future__ import annotations

import sys

from cryptoflow_contracts.cli import main

sys.exit(main())
