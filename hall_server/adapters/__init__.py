"""Adapters: the only code that knows SQLAlchemy, HTTP or Socket.IO."""
