"""The Discord front end: a thin layer that turns Discord events into `BriefingService` calls and
results into messages.

- `client.py`: `BriefingBot`, owning the service, loading the cogs, syncing slash commands
- `run.py`: `python -m bot run`
- `cogs/`: `chat` (mentions, replies, threads, DMs), `commands` (/ask /brief /factcheck /sources
  /reset /status), `debate` (/debate and its buttons), `moderation` (/reload)
- `streaming.py`: streaming a reply with throttled edits; `chunks.py`: splitting at 2000 characters;
  `formatting.py`: how results look; `limits.py`: rate limit and input length;
  `conversations.py`: which conversation a message continues; `failures.py`: errors -> messages
"""
