"""What lives in Redis: conversations and transcripts, the hand-off queue and its tickets, the
outbox streams, agents, incidents, the intake stream, the leads' lists, the tokens of private
moves, and what the channels keep (`channel_state`). Only these modules talk to Redis about
them."""
