from __future__ import annotations

import sys

from cryptoflow_stream_sink.cli import main

sys.exit(main())
