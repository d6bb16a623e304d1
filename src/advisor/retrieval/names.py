"""Names in a question that the corpus never mentions (a product, a place, a law): a sign that the
guidance cannot answer it, however close its other words come."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from advisor.retrieval.index_contents import WORD

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.+'-]*[A-Za-z0-9]")
_SENTENCE_START = re.compile(r"(^|[.?!:]\s*)$")


def unknown_names(query: str, vocabulary: Sequence[str]) -> list[str]:
    """Names in the query (capitalised mid-sentence, acronyms, mixed case: a product, a place, a law)
    that no word of the corpus starts with. Figures are left out: teams describe their own numbers."""
    found = []
    for match in _NAME.finditer(query):
        token = match.group(0)
        if any(ch.isdigit() for ch in token):
            continue
        at_start = bool(_SENTENCE_START.search(query[: match.start()]))
        if not ((token[0].isupper() and not at_start) or any(ch.isupper() for ch in token[1:])):
            continue
        parts = WORD.findall(token.lower().removesuffix("'s"))
        if any(not _known(part, vocabulary) for part in parts):
            found.append(token)
    return found


def _known(word: str, vocabulary: Sequence[str]) -> bool:
    # A prefix counts ("Europe" / "european"), and so does a plural of a known word ("ERPs").
    for form in {word, word.removesuffix("s")}:
        i = bisect.bisect_left(vocabulary, form)
        if i < len(vocabulary) and (
            vocabulary[i] == form or (len(form) >= 3 and vocabulary[i].startswith(form))
        ):
            return True
    return False
