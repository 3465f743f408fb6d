"""Use cases: command handlers, the message bus, the unit-of-work and port interfaces."""
