"""Writing the answer: the ``Composer`` protocol, the extractive and LLM composers, citation markers
and the defences against injected text."""
