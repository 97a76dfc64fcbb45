"""Documents moderators have (PDF reports, saved web pages, Word memos) as briefing sources.

`convert_in_worker(data, filename)` returns the text of a source file in the bot's own format
(bot/sources.py): TOML front matter from the document's metadata, `## Heading {#slug page=4}`
sections, clean paragraphs. Modules: `sniff` (magic bytes, size and zip checks, in the bot's
process), `worker` (the child process with its time and memory limits), `convert` (dispatch, in
the child), `pdf`, `html`, `word` (one converter per format), `model` (the shared `Document` and
its rendering). Nothing here imports the briefing logic: converting is about files only.
"""

from bot.documents.model import DocumentRefused
from bot.documents.sniff import MAX_DOCUMENT_BYTES, SUFFIXES, suffix_of
from bot.documents.worker import convert_in_worker

__all__ = ["MAX_DOCUMENT_BYTES", "SUFFIXES", "DocumentRefused", "convert_in_worker", "suffix_of"]
