from __future__ import annotations

import sys

from cryptoflow_archive.cli import main

sys.exit(main())
