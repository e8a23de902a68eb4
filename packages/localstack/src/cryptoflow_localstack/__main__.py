from __future__ import annotations

import sys

from cryptoflow_localstack.cli import main

sys.exit(main())
