"""Device drivers and simulators; knows devices, never tickets (issue 5)."""
