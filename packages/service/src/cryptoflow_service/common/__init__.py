"""Plumbing shared by every API module: config access, Redis client, time and decimal fields, errors."""
