"""The domain: what the bot makes of one message, with no Redis, no web and no platform.

`messages` (the types every layer shares), `pipeline` (one message in, one decision out) and
its steps: `secret_guard`, `language`, `signals`, `entities`, the answers and replies of
`texts`, the articles of `helpcenter`, the impostor check of `impostors`."""
