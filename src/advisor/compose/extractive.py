"""The offline composer: a short, cited note that answers the kind of question asked.

It reads the question (a how-to, a checklist, a symptom, a choice, an estimate, a definition, a
request for examples or risks: ``knowledge/rules/question_kinds.toml``), picks items (list items
with a bold headline, or sentences of prose) from the matching material, covering the question's
facets, and adds a line for each fact the team stated that matters to the question. Every line is
cited; the note stays under about 250 words. Deterministic: the same brief gives the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence

from advisor.compose.followup import rewrite_followup
from advisor.compose.items import (
    Item,
    Scorer,
    extract_items,
    in_written_order,
    is_imperative,
    select_items,
    terms,
)
from advisor.compose.note import Composition, Line, Note, definition_of, echo, item_lines, lower_first
from advisor.compose.protocol import Brief, Draft, stream_words
from advisor.compose.sanitise import sanitise_passages
from advisor.guidance.facts import Fact, extract_facts, facts_for
from advisor.guidance.questions import QuestionReading, read_question
from advisor.guidance.rules import GuidanceRules, load_rules
from advisor.types import Passage, Turn

__all__ = ["Composition", "ExtractiveComposer", "compose_extractive", "terms"]

WORD_BUDGET = 240
# What may fill the rest of the note, by kind of question (how_to for any kind not listed).
FILL_MATERIALS = {
    "how_to": ("action", "checklist", "good", "tradeoff", "cost", "example", "other"),
    "symptom": ("symptom", "action", "checklist", "good", "other"),
    "risks": ("symptom", "tradeoff", "action", "other"),
}
FILL_PER_PASSAGE = 5
# Words almost every question and passage here share: a point must share others to count as "on the
# question" (min_overlap), so "fraud model" alone does not make a sign the user's situation.
GENERIC_TERMS = frozenset(terms("model models ai data project team system"))
DETAILED_STEPS = 2
HOW_TO_STEPS = 7
DEFINING_BONUS = 1.0  # added to the points of the passage that defines the term asked about
STEP_FLOOR = 0.6  # a how-to's steps score at least this share of the best item's score
# An imperative sentence is advice wherever the guidance wrote it, not only under "First steps".
STEP_MATERIALS = ("action", "checklist", "good", "other", "tradeoff", "cost", "example")
_ASKS_FOR_SIGNS = re.compile(
    r"\b(?:warning signs?|signs|symptoms|red flags?|early warnings?)\b"
    r"|\bhow (?:can|do|would|will|could) (?:we|i|you|they) (?:tell|know|spot|notice|recogni[sz]e|see) "
    r"(?:if|whether|when|that)\b",
    re.I,
)


class _Writer:
    def __init__(self, brief: Brief, rules: GuidanceRules) -> None:
        self.brief = brief
        self.rules = rules
        self.reading: QuestionReading = brief.reading or read_question(brief.question, rules)
        self.kind = rules.kind(self.reading.kind)
        self.passages = brief.passages
        question_terms = frozenset(terms(brief.question))
        related = frozenset(terms(f"{brief.standalone} {self.reading.expansion}"))
        facts = brief.facts if brief.facts is not None else self._facts_from_text()
        self.facts = facts
        fact_terms = frozenset(t for f in facts for t in terms(" ".join(f.terms)))
        self.covering = question_terms | related
        self.specific = self.covering - GENERIC_TERMS
        scorer = Scorer(self.kind, question_terms, related, fact_terms)
        self.scored = [(item, scorer.score(item)) for item in extract_items(self.passages, rules)]
        self.best = max((value for _, value in self.scored), default=0.0)
        self.note = Note(self.passages)
        self.used: list[Item] = []

    def _facts_from_text(self) -> tuple[Fact, ...]:
        said = [self.brief.initiative or ""] + [t.content for t in self.brief.history if t.role == "user"]
        return extract_facts(said, self.rules)

    # -- choosing ---------------------------------------------------------------------------------
    def pick(
        self,
        materials: Sequence[str],
        most: int,
        *,
        actions_only: bool = False,
        per_passage: int = 2,
        min_overlap: int = 0,
        exempt: int = 0,
        floor: float = float("-inf"),
    ) -> list[Item]:
        pool = [
            (item, value)
            for item, value in self.scored
            if item.material in materials
            and (not actions_only or is_imperative(item.headline, strict=item.material != "action"))
            and item not in self.used
            and (item.passage < exempt or len(item.terms & self.specific) >= min_overlap)
            and value >= floor
        ]
        chosen = select_items(pool, most, covering=self.covering, per_passage=per_passage, exclude=self.used)
        self.used.extend(chosen)
        return chosen

    def _list(self, lead: str, items: Sequence[Item]) -> None:
        """A lead line, the items as bullets, then a blank line."""
        self.note.add(lead)
        for item in items:
            self.note.add_item(item, "- ")
        self.note.add("")

    def words(self) -> int:
        return sum(line.words() for line in self.note.lines)

    # -- writing ----------------------------------------------------------------------------------
    def write(self) -> Composition:
        kind = self.reading.kind
        body = {
            "definition": self._definition,
            "checklist": self._checklist,
            "symptom": self._symptom,
            "risks": self._risks,
            "choice": self._choice,
            "estimate": self._estimate,
            "examples": self._examples,
        }.get(kind, self._how_to)
        if not body():
            self.note = Note(self.passages)
            self.used = []
            if not self._how_to():
                return Composition("", [])
        self._readiness()
        self._situation()
        self._fill()
        self._fit_budget()
        return self.note.render()

    def _steps(self, heading: str | None, most: int, opening: bool = False) -> bool:
        # A "First steps" section is one passage of five or six steps: allow three from each.
        # Steps that make the whole answer must come close to the best point found: far weaker ones
        # (advice from a document retrieved for a side fact) leave the room to that point instead.
        floor = STEP_FLOOR * self.best if opening else float("-inf")
        steps = self.pick(STEP_MATERIALS, most, actions_only=True, per_passage=4, floor=floor)
        if not steps:
            return False
        start = 1
        if opening:
            # The first action answers the question; the list goes on from step 2, so "the second
            # step" in a follow-up means what the reader sees as step 2.
            first = steps.pop(0)
            detail = f" {first.detail}" if first.detail else ""
            self.note.add(f"Start here: **{lower_first(first.headline)}**{detail} [{{n}}]", first.passage)
            self.note.add("")
            start = 2
        if steps and heading:
            self.note.add(heading)
        for number, item in enumerate(steps, start):
            # The first steps carry their detail; later ones their headline, so more fit.
            self.note.add_item(item, f"{number}. ", detail=number <= DETAILED_STEPS, step=True)
        self.note.add("")
        return True

    def _how_to(self) -> bool:
        if self._steps(None, HOW_TO_STEPS, opening=True):
            return True
        # A corpus written as prose (text, HTML or PDF files) has no step lists: quote its sentences.
        points = self.pick(("other", "good", "tradeoff", "cost", "example", "question"), 4)
        for item in points:
            self.note.add_item(item, "- ")
        return bool(points)

    def _definition(self) -> bool:
        found = definition_of(self.reading.term, self.passages)
        if found is None:
            return self._how_to()
        sentence, index = found
        self.note.add(f"{sentence} [{{n}}]", index)
        # The definition is said once: the same sentence is not a point worth knowing again.
        self.used.extend(
            i for i, _ in self.scored if i.passage == index and i.headline.rstrip(".") in sentence
        )
        self.note.add("")
        # What the guidance says to do about the term is said where it defines it: those come first.
        self.scored = [(i, v + DEFINING_BONUS if i.passage == index else v) for i, v in self.scored]
        return self._steps("**In practice:**", 6) or True

    def _checklist(self) -> bool:
        checks = self.pick(("checklist", "good"), 8, per_passage=2)
        if len(checks) < 3:
            checks += self.pick(("action",), 5 - len(checks), actions_only=True)
        if not checks:
            return False
        checks = in_written_order(checks, self.passages)
        self._list("Check each of these, and treat any gap as open work with an owner:", checks)
        self._steps("**To run the check:**", 3)
        return True

    def _symptom(self) -> bool:
        if asks := _ASKS_FOR_SIGNS.search(self.brief.question):
            # "What are the warning signs...": the signs are the answer, then what to do about them.
            # "How can we tell if X" wants signs only when the guidance has signs of X itself;
            # "how do we tell if the model drifts" is otherwise a question of method.
            plainly = 2 if asks.group(0).lower().startswith("how") else 0
            listed = self.pick(("symptom",), 5, per_passage=4, min_overlap=plainly)
            if listed:
                self._list("Warning signs to look for:", listed)
                return self._steps("**What to do:**", 4) or True
        # A sign is named only when it is plainly the user's situation, not merely from the same document.
        signs = self.pick(("symptom",), 2, min_overlap=2)
        if signs:
            first = signs[0]
            self.note.add(
                f"What you describe matches a known warning sign: **{lower_first(first.headline)}** [{{n}}]",
                first.passage,
            )
            for item in signs[1:]:
                self.note.add(f"A related sign: **{lower_first(item.headline)}** [{{n}}]", item.passage)
            self.note.add("")
        else:
            return self._how_to()  # no sign plainly matches: answer with the actions, first one first
        return self._steps("**What to do:**", 6) or bool(signs)

    def _risks(self) -> bool:
        risks = self.pick(("symptom", "tradeoff"), 4, min_overlap=1)
        if risks:
            self._list("The main risks to watch:", risks)
        return self._steps("**How to reduce them:**", 4) or bool(risks)

    def _choice(self) -> bool:
        points = self.pick(("tradeoff", "good", "other", "cost"), 4)
        if not points:
            return self._how_to()
        first = points.pop(0)
        self.note.add(f"{first.text} [{{n}}]", first.passage)
        self.note.add("")
        if points:
            self._list("**Weigh:**", points)
        self._steps("**To decide:**", 4)
        return True

    def _estimate(self) -> bool:
        figures = [(i, v) for i, v in self.scored if i.has_figure and i not in self.used]
        chosen = select_items(figures, 4, covering=self.covering, exclude=self.used)
        self.used.extend(chosen)
        if not chosen:
            return self._how_to()
        self._list("Figures from the guidance to build the estimate on:", chosen)
        self._steps("**Next:**", 4)
        return True

    def _examples(self) -> bool:
        examples = self.pick(("example", "other"), 4)
        if not examples:
            return self._how_to()
        self._list("Examples from the guidance:", examples)
        self._steps("**What to take from them:**", 4)
        return True

    def _readiness(self) -> None:
        """The conversation's readiness assessment where it bears on the question: its weak topics
        among those of the leading passages (any of them for a general "where do we start")."""
        topics = {t for p in self.passages[:3] for t in p.topics}
        notes = [n for n in self.brief.readiness if self.reading.general or n.topic in topics][:2]
        for note in notes:
            because = f", because you said “{echo(note.said[0])}”" if note.said else ""
            name = note.topic.replace("-", " ")
            self.note.add(
                f"Your readiness assessment rates **{name}** {note.label} ({note.level} of 4){because}."
            )
        if notes:
            self.note.add("")

    def _situation(self) -> None:
        """One line per stated fact that matters to this question, quoting the team's words."""
        topics = {t for p in self.passages[:3] for t in p.topics}
        wanted = facts_for(self.facts, topics, self.reading.general)
        lines = []
        for fact in wanted:
            fit = frozenset(t for t in terms(" ".join(fact.terms)))
            pool = [
                (
                    item,
                    value
                    + 0.3 * len(item.terms & fit)
                    + (0.5 if self.passages[item.passage].doc_id in fact.docs else 0.0),
                )
                for item, value in self.scored
                if item not in self.used
                and is_imperative(item.headline, strict=item.material != "action")
                and item.material != "symptom"
                and not item.headline.endswith(":")  # a label needs its point, not a line of its own
                and (item.terms & fit or self.passages[item.passage].doc_id in fact.docs)
                # The advice must bear on the question too: a regulated bank asking what to monitor
                # gets monitoring advice for regulated firms, not their acceptable-use policy.
                and (self.reading.general or bool(item.terms & self.specific))
            ]
            chosen = select_items(pool, 1, exclude=self.used)
            if chosen:
                self.used.extend(chosen)
                lines.append((fact, chosen[0]))
        if not lines:
            return
        self.note.add("**For your situation:**")
        for fact, item in lines:
            self.note.add(
                f"- **You mentioned {echo(fact.said)}:** {lower_first(item.headline)} [{{n}}]", item.passage
            )

    def _fill(self) -> None:
        """The rest of the budget goes to further points on the question, best first: a reader gets
        more from a dense note than from a short one."""
        materials = FILL_MATERIALS.get(self.reading.kind, FILL_MATERIALS["how_to"])
        # Retrieval's best passages are on the question as a whole; further ones must share its words.
        extra = self.pick(materials, 12, per_passage=FILL_PER_PASSAGE, min_overlap=1, exempt=3)
        added = False
        for item in extra:
            room = WORD_BUDGET - self.words() - (0 if added else 3)
            full, short = item_lines(item, "- ")
            if len(full.split()) <= room:
                line, shorter = full, short
            elif short is not None and len(short.split()) <= room:
                line, shorter = short, None
            else:
                self.used.remove(item)
                continue
            if not added:
                self.note.add("")
                self.note.add("**Worth knowing:**")
                added = True
            self.note.add(line, item.passage, shorter)

    def _fit_budget(self) -> None:
        """Trim details from the last lines, then whole list lines, until the note fits the budget."""
        lines = self.note.lines
        for position in range(len(lines) - 1, -1, -1):
            if self.words() <= WORD_BUDGET:
                return
            line = lines[position]
            if line.short is not None:
                lines[position] = Line(line.short, line.passage)
        listed = [i for i, line in enumerate(lines) if re.match(r"^(?:- |\d+\. )", line.template)]
        while self.words() > WORD_BUDGET and len(listed) > 3:
            del lines[listed.pop()]


def compose_extractive(
    question: str,
    passages: Sequence[Passage],
    initiative: str | None = None,
    rules: GuidanceRules | None = None,
    said: Sequence[str] = (),
    standalone: str | None = None,
) -> Composition:
    """Compose a cited answer from raw passages (sanitised first: sentences are copied from them);
    ``said`` is what the user said earlier in the conversation."""
    history = tuple(Turn("user", text) for text in said)
    brief = Brief(question, standalone or question, initiative, history, tuple(sanitise_passages(passages)))
    return compose_brief(brief, rules or load_rules())


def compose_brief(brief: Brief, rules: GuidanceRules) -> Composition:
    """The note for a brief whose passages went through ``sanitise_passages``."""
    if not brief.passages:
        return Composition("", [])
    return _Writer(brief, rules).write()


class ExtractiveComposer:
    """The built-in composer (a ``Composer``): no model, always available, deterministic."""

    name = "extractive"

    def __init__(self, rules: GuidanceRules | None = None) -> None:
        self._rules = rules or load_rules()

    def compose(self, brief: Brief) -> Generator[str, None, Draft]:
        composition = compose_brief(brief, self._rules)
        yield from stream_words(composition.text)
        return Draft(composition.text, tuple(composition.passages))

    def standalone_question(
        self, question: str, history: Sequence[Turn], reply_by: float | None = None
    ) -> str:
        return rewrite_followup(question, history)  # instant: no deadline to keep
