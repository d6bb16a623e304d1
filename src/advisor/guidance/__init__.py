"""Rules a domain expert may change, read from data files beside the corpus (``knowledge/rules/``):
what kind of answer a question wants, what material each section of a document holds, which facts
an initiative states, and the everyday words that mean the corpus's terms."""
