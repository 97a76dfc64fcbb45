"""The word lists of `prompts/lexicon/`, parsed and validated, below every package that reads them.

- `lexicon`: the fact-check's lists (synonyms, antonyms, negations, number words; factcheck.toml);
- `vocabulary`: stop words, topic words, cue phrases, openers, amounts and search words (words.toml);
- `wordlists`: both files as one validated set, installed as the live lists on each reload.

Nothing here imports the briefing package: the word and sentence helpers (`bot.terms`), the index and
the prompt set read these lists too, and they sit below the briefing.
"""
