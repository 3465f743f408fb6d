"""OneDoor hall server: tickets, windows, dispatch and the live hall."""
