"""`python -m demo_backoffice`: start the demo back office (arguments in `server.py`)."""

from demo_backoffice.server import main

raise SystemExit(main())
