"""discord.py extensions, loaded by `BriefingBot.setup_hook`; each keeps its handlers short."""
