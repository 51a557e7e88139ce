"""Data files: the word lists the query analyzer reads (see ``clipaware.query.lexicon``)."""
