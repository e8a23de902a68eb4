from __future__ import annotations

# pytester runs small inner sessions to check what the plugin prints and how it recovers.
pytest_plugins = ["pytester"]
