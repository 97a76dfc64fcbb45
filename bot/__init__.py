"""briefing-bot: grounded policy briefings on the US-China AI race-versus-cooperation debate."""

__version__ = "0.1.0"
