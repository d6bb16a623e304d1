"""Items: the units the extractive composer quotes (a list item with its bold headline, or a sentence
of prose), each labelled with the material it is (a step, a sign, a trade-off...) and scored against
the question, its kind and the team's facts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from advisor.guidance.questions import section_material
from advisor.guidance.rules import GuidanceRules, KindRule
from advisor.types import Passage

_STEM = Stemmer.Stemmer("english")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be but by can do does for from has have how i if in into is it its of on or our "
    "should so that the their them then there these they this to us was we what when where which who why "
    "will with you your my me about any all more most some than too very just also get".split()
)
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_BOLD_LEAD = re.compile(r"^\*\*(.+?)\*\*([:.]?)\s*(.*)$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_FIGURE = re.compile(r"\d")
# A sentence that opens by pointing back ("It is one of...", "This means...") needs the one before it.
_LEANS_BACK = re.compile(r"^(?:it|this|that|these|those|they|such|here)\b", re.I)
_POINTS_BACK = re.compile(r"^\S+ (?:it|this|that|them|these|those)\b(?! (?:is|are|was|were)\b)", re.I)
_CROSS_REFERENCE = re.compile(r"^see\b.{0,80}$", re.I)
# First words that describe a thing or a state ("The fraud model has...", "Time to decision...")
# rather than tell the reader what to do.
_NOT_IMPERATIVE = frozenset(
    "a an the no nobody none too our their its this that there it he she they we you one two three every from "
    "each all most many some only time number share rate percentage cost costs latency accuracy".split()
)
_VERB_LIKE_S = frozenset("assess address discuss focus process pass access bias harness".split())
_AFTER_A_VERB = frozenset(
    """
    a an the every each all any one two three your their our its this that these those them it up down
    out back off over in on to with for from by at into only what how who when where which whether
    """.split()
)
_BE = frozenset("is are was were".split())
_NOUN_FOLLOWERS = frozenset("or and vs versus drift is are was were has have of".split())
# Verbs that open advice in the guidance ("Name one owner", "Coarsen the postcode"). Outside a steps
# section only these count as an instruction: there, "Fairness results: ..." or "Data quality is
# relative" open with a noun that the suffix test above would let through.
_ADVICE_VERBS = frozenset(
    """
    add address adopt agree align allocate appoint ask assess assign audit automate avoid balance
    benchmark block book bring budget build calculate cap capture change check choose classify close
    coarsen collect combine communicate compare complete compute configure confirm consider convert
    create cut decide define delete deploy describe design detect document draft draw drop embed enable
    encode end ensure escalate establish estimate evaluate expect explain expose find fix flag focus
    follow forecast freeze fund gather get give hire hold identify include integrate interview introduce
    invest involve isolate keep label launch lay lead limit link list load lock log make map match
    measure meet minimise monitor move name negotiate note offer open pair pick pilot pin plan
    precompute prefer prepare present prioritise profile promote protect prove provide pseudonymise
    publish put raise ramp rebuild record recruit reduce refactor refine register reject remove replace
    report require rerun reserve retire retrain return reuse review revisit reward rewrite roll route
    run scale scan schedule screen secure send separate serve set share ship show shrink simplify
    snapshot split staff standardise start stop store stress strip surface switch tag take talk teach
    tell test tie track train translate treat trim turn update upskill use validate verify walk watch
    weigh write produce generate apply attach let allow base contact connect invite join retest sample
    segment simulate sign size accept anonymise aggregate archive back cache calibrate clarify compress
    containerise cover de-identify explore hand harden instrument mask migrate mirror notify onboard
    package partition patch quantify rehearse release replay reproduce request restrict retain revoke
    rotate shadow stage state summarise support throttle tune version warm
    """.split()
)


@lru_cache(maxsize=8192)
def _stem_words(text: str) -> frozenset[str]:
    return frozenset(_STEM.stemWord(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1)


def terms(text: str) -> set[str]:
    """Stemmed content words."""
    return set(_stem_words(text))


def _first_word(headline: str) -> str:
    return headline.split(" ", 1)[0].strip("*_\"'(").lower()


def is_imperative(headline: str, strict: bool = False) -> bool:
    """Whether a headline tells the reader to do something ("Name one owner."); ``strict`` accepts
    only the known advice verbs, for text outside a section of steps."""
    words = headline.split()
    first = _first_word(headline.strip())
    second = words[1].strip(".,:;").lower() if len(words) > 1 else ""
    if second in _NOUN_FOLLOWERS or any(w in _BE for w in words[2:4]) or headline.endswith(":"):
        # "Label or prior drift.", "Run cost is €40,000 a year.", "Pilot to production:" name or
        # describe something; they do not tell the reader what to do.
        return False
    if first in _ADVICE_VERBS:
        return True
    if strict or not first or first in _NOT_IMPERATIVE or first[0].isdigit():
        return False
    if first.endswith(("ing", "ed")) and first not in ("embed", "feed", "need", "seed", "shed", "bring"):
        return False
    if first.endswith("s") and not first.endswith("ss") and first not in _VERB_LIKE_S:
        return False
    # A verb the list does not know is followed by its object or a particle ("Jot down every
    # threshold", "Pair the model with a fallback"); "Population Stability Index" is a name.
    return not second or second in _AFTER_A_VERB


@dataclass(frozen=True)
class Item:
    headline: str
    detail: str  # the first sentence after the headline, or ""
    passage: int  # index into the passages
    material: str  # see knowledge/rules/sections.toml
    bold: bool
    prose: bool  # a sentence of running text rather than a list item
    terms: frozenset[str]

    @property
    def text(self) -> str:
        return f"{self.headline} {self.detail}".strip()

    @property
    def says_enough(self) -> bool:
        """A headline of a few words ("Records.") means nothing without its detail."""
        return len(self.headline.split()) >= 4 and not self.headline.endswith(":")

    @property
    def has_figure(self) -> bool:
        return bool(_FIGURE.search(self.text))


def first_sentence(text: str, limit: int = 220) -> str:
    sentence = _SENTENCE.split(text.strip(), maxsplit=1)[0]
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return sentence


DETAIL_WORDS = 40  # a detail's second sentence is kept when both together stay within this many words


def _points_back(headline: str) -> bool:
    """ "Make it a release gate." needs what "it" was; "Records that may be the same customer..." is
    a relative clause, not an instruction pointing back."""
    match = _POINTS_BACK.match(headline)
    return bool(match) and _first_word(headline) in _ADVICE_VERBS


def _lead_sentences(text: str) -> str:
    first = first_sentence(text)
    sentences = _SENTENCE.split(text.strip(), maxsplit=2)
    if len(sentences) > 1 and not first.endswith("…"):
        both = f"{first} {sentences[1]}"
        if len(both.split()) <= DETAIL_WORDS and not _LEANS_BACK.match(sentences[1]):
            return both
    return first


def _split_bold(item: str) -> tuple[str, str, bool]:
    bold = _BOLD_LEAD.match(item)
    if not bold:
        return item, "", False
    # "**Label**: detail" keeps its colon: the detail is not the rest of the headline's sentence.
    headline, detail = bold.group(1).strip() + bold.group(2), bold.group(3).strip()
    # "**Keep the old version warm** until ..." is one sentence split by the bold; a bold lead that
    # ends its own sentence ("**Latency target met.** p95 ...") is a headline whatever follows.
    if (detail[:1].islower() or detail[:1] in ",;(") and not headline.endswith((".", ":", "!", "?")):
        joined = (
            f"{headline}{first_sentence(detail)}"
            if detail[:1] in ",;"
            else f"{headline} {first_sentence(detail)}"
        )
        return joined, "", True
    return headline, detail, True


# "The four layers to monitor > 2. Input data": one numbered part of a list the guidance wrote as
# sections. Each part is a point to check, named by its heading.
_NUMBERED_PART = re.compile(r"^(?:(?P<parent>.*) > )?(?P<number>\d+)\.\s+(?P<name>[^>]+)$")


@dataclass(frozen=True)
class NumberedPart:
    parent: str  # the heading path above the part ("" for a numbered top-level section)
    number: int
    name: str  # its heading without the number ("Input data")


def numbered_part(section: str) -> NumberedPart | None:
    match = _NUMBERED_PART.match(section)
    if match is None:
        return None
    return NumberedPart(match["parent"] or "", int(match["number"]), match["name"].strip().rstrip(".:"))


def in_written_order(items: Sequence[Item], passages: Sequence[Passage]) -> list[Item]:
    """The items, with the numbered parts of one section ("2. Input data") put in the guidance's
    order within the places they were given: a reader checks the layers from the first."""
    groups: dict[tuple[str, str], list[tuple[int, int]]] = {}  # (doc, parent) -> (number, place)
    for place, item in enumerate(items):
        passage = passages[item.passage]
        if part := numbered_part(passage.section):
            groups.setdefault((passage.doc_id, part.parent), []).append((part.number, place))
    out = list(items)
    for members in groups.values():
        places = [place for _, place in members]
        for place, (_, source) in zip(places, sorted(members), strict=True):
            out[place] = items[source]
    return out


def extract_items(passages: Sequence[Passage], rules: GuidanceRules) -> list[Item]:
    items: list[Item] = []
    for index, passage in enumerate(passages):
        material = section_material(passage.section, rules)
        if material == "related":
            continue
        part = numbered_part(passage.section)
        for headline, detail, bold, prose, words in _parse_passage(passage.text):
            if part and prose and material == "other":
                # Its first sentence, under the part's name: "**Input data:** Check what the model
                # receives: ...". The rest of the part stays prose.
                name = part.name
                items.append(Item(f"{name}:", headline, index, "checklist", True, False, words | terms(name)))
                part = None
                continue
            items.append(Item(headline, detail, index, material, bold, prose, words))
    return items


# The same passages come back for many questions: parse each text once.
@lru_cache(maxsize=4096)
def _parse_passage(text: str) -> tuple[tuple[str, str, bool, bool, frozenset[str]], ...]:
    """(headline, detail, bold, prose, terms) of each item in a passage's text."""
    parsed: list[tuple[str, str, bool, bool, frozenset[str]]] = []
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("|")]
    raw = [m.group(1).strip() for line in lines if (m := _ITEM.match(line))]
    raw_items = bool(raw)
    if not raw_items:
        paragraph = " ".join(line for line in lines if not line.startswith(("#", "**")) or " " in line[2:-2])
        raw = [
            s
            for s in _SENTENCE.split(paragraph)
            if 40 <= len(s) <= 400 and "this document" not in s.lower() and not _LEANS_BACK.match(s)
        ]
        # Emphasis inside running text ("... path. **Minimum standard:** nobody ...") is dropped:
        # a sentence is quoted whole, and may itself be set in bold.
        raw = [s.replace("**", "").strip() for s in raw]
    # A table's rows are points of their own, whatever surrounds the table.
    labelled = [(item, not raw_items) for item in raw] + [(row, False) for row in _table_rows(text)]
    for text_of_item, prose in labelled:
        headline, detail, bold = _split_bold(text_of_item)
        if (
            headline[:1].islower()
            or headline.endswith("?")
            or (headline.endswith(":") and not detail)
            or _CROSS_REFERENCE.match(headline)
            or _points_back(headline)
        ):
            # A question, "See <another document>.", "Make it a release gate." (it being whatever
            # came before) or "- scoring is a nightly batch job;" (the end of a sentence that opened
            # before the list) says nothing on its own.
            continue
        label = bold and (len(headline.split()) < 4 or headline.endswith(":")) and bool(detail)
        if label:
            # "**Records:** keep ..." or "**Timeliness.** Data arrives ...": a label and its point,
            # joined by a colon so they read (and are checked against the source) as one sentence.
            headline = headline.rstrip(";,.:") + ":"
        elif len(headline.split()) < 3:
            continue  # a bare label ("Timeliness.") says nothing on its own
        elif not headline.endswith((".", "!", "…")):
            headline = headline.rstrip(":;,") + "."
        detail = _lead_sentences(detail) if detail else ""
        parsed.append((headline, detail, bold, prose, _stem_words(f"{headline} {detail}")))
    return tuple(parsed)


_TABLE_RULE = re.compile(r"^:?-{3,}:?$")


def _table_rows(text: str) -> list[str]:
    """Each body row of a Markdown table as a labelled item: "**<first cell>:** <other cells>."
    ("| Scheduled | Retrain weekly ... | Stable domains ... |" is a point like any list item)."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.lstrip().startswith("|")
    ]
    ruled = [i for i, cells in enumerate(rows) if all(_TABLE_RULE.match(c) for c in cells if c)]
    # Without a rule line there is no header row to tell apart: the table is not read.
    if not ruled:
        return []
    body = [cells for i, cells in enumerate(rows) if i > ruled[0] and i not in ruled]
    items = []
    for cells in body:
        label = cells[0].replace("**", "").rstrip(".:")
        rest = "; ".join(c.replace("**", "").rstrip(".") for c in cells[1:] if c)
        if label and rest:
            items.append(f"**{label}:** {rest}.")
    return items


# Retrieval's ranking is the strongest sign of what answers the question: an item's score starts
# from its passage's rank (passages[0] is the best match) and decays by this factor per place.
RANK_DECAY = 0.85
MATERIAL_SCALE = 0.3  # how much the kind of question's preferred material adds, at weight 1.0
RELATED_WEIGHT = 0.06  # per word shared with the question's expansion (synonyms, a follow-up's subject)


@dataclass(frozen=True)
class Scorer:
    """How well an item answers this question: its passage's rank, how well its material suits the
    kind of question, and the words it shares with the question, its expansion and the facts."""

    kind: KindRule
    question_terms: frozenset[str]
    related_terms: frozenset[str]  # the expansion and what a follow-up refers to
    fact_terms: frozenset[str]

    def score(self, item: Item) -> float:
        value = RANK_DECAY**item.passage + MATERIAL_SCALE * self.kind.material.get(item.material, 0.0)
        value += 0.2 * len(item.terms & self.question_terms)
        value += RELATED_WEIGHT * len(item.terms & (self.related_terms - self.question_terms))
        value += 0.04 * len(item.terms & self.fact_terms)
        value += 0.1 if item.bold else 0.0
        value += self.kind.figures if item.has_figure else 0.0
        value -= 0.1 if item.prose else 0.0
        if item.material == "action" and not is_imperative(item.headline):
            value -= 0.3  # a metric or a description filed under steps is not a step
        return value


def too_similar(a: Item, chosen: Sequence[Item]) -> bool:
    """Near-duplicates: most of the words overall, or of the shorter headline, are shared."""
    ha = _stem_words(a.headline)
    for b in chosen:
        if a.terms and b.terms and len(a.terms & b.terms) / len(a.terms | b.terms) > 0.4:
            return True
        hb = _stem_words(b.headline)
        if ha and hb and len(ha & hb) / min(len(ha), len(hb)) >= 0.6:
            return True
    return False


def select_items(
    scored: Sequence[tuple[Item, float]],
    most: int,
    *,
    covering: frozenset[str] = frozenset(),
    per_passage: int = 2,
    exclude: Sequence[Item] = (),
    relative_floor: float = 0.3,
) -> list[Item]:
    """Greedy choice that rewards covering question words no chosen item covers yet (the question's
    facets), skips near-duplicates and stops when what is left is clearly weaker."""
    chosen: list[Item] = []
    per: dict[int, int] = {}
    covered: set[str] = set()
    remaining = sorted(scored, key=lambda pair: (-pair[1], pair[0].passage, pair[0].headline))
    best_first = remaining[0][1] if remaining else 0.0
    while remaining and len(chosen) < most:
        pick = max(
            remaining,
            key=lambda pair: pair[1] + 0.12 * len((pair[0].terms & covering) - covered),
        )
        remaining.remove(pick)
        item, value = pick
        if per.get(item.passage, 0) >= per_passage or too_similar(item, [*chosen, *exclude]):
            continue
        if chosen and value < best_first * relative_floor:
            break
        chosen.append(item)
        per[item.passage] = per.get(item.passage, 0) + 1
        covered |= item.terms
    return chosen
