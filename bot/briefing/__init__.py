"""The briefing domain: retrieve, prompt, generate, verify citations; answer, brief, debate, check.

Nothing here knows about Discord or the console: both front ends call these modules through
`bot.service.BriefingService`.
"""
