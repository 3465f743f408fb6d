"""`python -m hall_server.cli` runs the `onedoor` command."""

from hall_server.cli import main

raise SystemExit(main())
