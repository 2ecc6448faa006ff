"""The demo exchange back office: a small aiohttp server with a real SQLite database that
implements the back-office contract (docs/backoffice-api.yaml) for demo accounts, so that the
bot's account features can be seen and tested with no exchange behind them.

Run it with `python -m demo_backoffice --port 8090` (see `server.py` for the arguments and the
two secrets it reads from the environment).
"""

# The contract version this server implements: /v1/health answers it.
VERSION = "1.0.0"
