"""The services that orchestrate a message around the pipeline. `inbox` is the facade the
adapters call (accept, decide, pass to a person); it acts through `handoff` (tickets, lanes,
private moves), `feedback` (buttons, ratings, filed reports) and `community` (incidents,
impostors). `upkeep` holds the sweeps that run every few seconds."""
