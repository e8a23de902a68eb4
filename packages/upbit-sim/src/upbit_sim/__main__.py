from __future__ import annotations

import sys

from upbit_sim.cli import main

sys.exit(main())
