"""A small server-rendered dashboard page; its vanilla JavaScript polls the API (no build step)."""
