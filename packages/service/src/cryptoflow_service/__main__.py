"""`python -m cryptoflow_service` runs the same command line as `cryptoflow-service`."""

from __future__ import annotations

import sys

from cryptoflow_service.cli import main

if __name__ == "__main__":
    sys.exit(main())
