"""The HTTP side of the bot process: `server` (builds the app and the channels), the agent API
(`agent_api`: `agent_routes`, `lead_routes`, sharing `api_requests` and `responses`; described
by `openapi`) and the agents' web console (`console_page`, `console_static/`)."""
