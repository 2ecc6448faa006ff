"""Command-line tools: `cli` (`python -m bot ...`), `replay`, `bench`, `reports` and the
agents' terminal console (`agent_terminal`)."""
