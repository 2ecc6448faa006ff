"""An agent's private canned answers, beside the team's shared ones (`data/canned/<lang>.yml`):
one Redis hash per agent (`keys.agent_canned`), title -> text, in no particular language. Only
their agent reads and changes them (`bot/web/canned_routes.py`), leads neither.

What an agent types into the bot's own records is refused when it hides control characters
(`bot/domain/hidden_characters.py`), as an incident's status is.
"""

from __future__ import annotations

from redis.asyncio import Redis

from bot.domain.hidden_characters import refuse_hidden_characters
from bot.stores import keys

MAX_ANSWERS = 100  # per agent
MAX_TITLE_CHARS = 80
MAX_TEXT_CHARS = 2000
TEXT_LAYOUT = "\n\r\t"  # the control characters a text may hold (none in a title)

# Set a title's text unless that would make one answer too many (a new title when the agent
# has `limit` already), as one step: two saves at once cannot both take the last place.
# KEYS: the agent's hash. ARGV: title, text, limit.
_SAVE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class TooManyAnswers(ValueError):
    """The agent has `MAX_ANSWERS` already: one must go before another comes."""


def clean_title(title: str) -> str:
    """The title without surrounding spaces; ValueError when it is empty, too long or hides
    control characters."""
    title = title.strip()
    if not title or len(title) > MAX_TITLE_CHARS:
        raise ValueError(f"a title is 1-{MAX_TITLE_CHARS} characters")
    refuse_hidden_characters(title, "the title")
    return title


class PrivateCanned:
    """Reads and writes each agent's private canned answers."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._save = redis.register_script(_SAVE)

    async def of(self, agent: str) -> dict[str, str]:
        """The agent's answers, by title, in title order."""
        raw = await self.redis.hgetall(keys.agent_canned(agent))
        return dict(sorted((k.decode(), v.decode()) for k, v in raw.items()))

    async def save(self, agent: str, title: str, text: str) -> str:
        """Set the answer `title` (a new one or a new text); the title as kept. ValueError for
        a bad title or text, `TooManyAnswers` for a new title beyond `MAX_ANSWERS`."""
        title = clean_title(title)
        if not text.strip() or len(text) > MAX_TEXT_CHARS:
            raise ValueError(f"a text is 1-{MAX_TEXT_CHARS} characters")
        refuse_hidden_characters(text, "the text", allowed=TEXT_LAYOUT)
        if not await self._save(keys=[keys.agent_canned(agent)], args=[title, text, MAX_ANSWERS]):
            raise TooManyAnswers(f"you have {MAX_ANSWERS} canned answers already: delete one first")
        return title

    async def delete(self, agent: str, title: str) -> bool:
        """Remove the answer `title`; False when the agent has none by that title."""
        return bool(await self.redis.hdel(keys.agent_canned(agent), title.strip()))
