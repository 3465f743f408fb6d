"""The outbox relay to the online platform and its translation (issue 7)."""
