"""The incident flood drill, small (issue 17; `make bench` runs it full size): 800 messages in
20 s from 200 users, half over the Telegram webhook and half in the web chat, through two
replicas (each with its workers) on one Redis. Every message is answered, none twice."""

from __future__ import annotations

from tests.flood_drill import run_drill


def test_a_flood_through_two_replicas_is_answered_once_each(tmp_path, model_path, capsys):
    result = run_drill(tmp_path, users=200, messages=800, seconds=20, drain_seconds=90)
    with capsys.disabled():
        print(f"\nflood drill: {result['messages']} messages from {result['users']} users in {result['seconds']} s "
              f"through 2 replicas ({result['workers_per_replica']} workers): telegram {result['telegram']}, "
              f"webchat {result['webchat']}, longest backlog {result['max_backlog']}, resends {result['resends']}")
    assert result["workers_per_replica"] == [2, 2]
    for channel in ("telegram", "webchat"):
        figures = result[channel]
        assert figures["sent"] == 400
        assert (figures["missing"], figures["repeated"]) == (0, 0), (channel, figures)
