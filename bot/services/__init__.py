"""The services that orchestrate a message around the pipeline. `front_desk` is the facade
channels call, and `channels` the port they implement; behind the desk, `inbox` accepts and
decides, acting through `handoff` (tickets, lanes, private moves), `feedback` (buttons,
ratings, filed reports) and `community` (incidents, impostors). `upkeep` holds the sweeps that
run every few seconds."""
