"""The kiosk program: ID-card reader, ticket printer, camera and touch screen (issue 6)."""
