"""Alert rules owned by token holders, fired alerts, and their delivery by log, e-mail and Slack."""
