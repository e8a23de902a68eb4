"""Test helpers: real SMTP and webhook receivers, subprocess launchers, and data planting."""
