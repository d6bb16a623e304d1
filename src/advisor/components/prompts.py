"""Prompt templates: jinja2 files in a prompts directory, rendered strictly.

Every variable a template uses must be supplied (``StrictUndefined``); a missing template or
variable raises :class:`PromptError` naming the file, so a broken prompt fails loudly at the
first render (or at start-up through :meth:`PromptLibrary.validate`).
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

# The templates the answering code relies on.
REQUIRED_PROMPTS: tuple[str, ...] = ("system", "answer", "rewrite")

# Tags used to fence untrusted text in the templates. Text placed inside a fence goes through the
# ``fence`` filter, which defuses any copy of these tags so the text cannot close its fence early.
FENCE_TAGS: tuple[str, ...] = ("passages", "passage", "history", "initiative", "question")

_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_FENCE_TAG_RE = re.compile(r"<\s*(/?)\s*(" + "|".join(FENCE_TAGS) + r")\b[^>]*>", re.IGNORECASE)


class PromptError(Exception):
    """A prompt template is missing, malformed or was rendered without a variable it needs."""


def defuse_fence_tags(text: object) -> str:
    """Rewrite any fence tag inside untrusted text (``</passages>`` -> ``(/passages)``)."""
    return _FENCE_TAG_RE.sub(lambda m: f"({m.group(1)}{m.group(2).lower()})", str(text))


class PromptLibrary:
    """Renders ``<name>.j2`` templates from one directory."""

    def __init__(self, prompts_dir: Path) -> None:
        self.prompts_dir = Path(prompts_dir)
        if not self.prompts_dir.is_dir():
            raise PromptError(f"prompts directory not found: {self.prompts_dir}")
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.prompts_dir)),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            autoescape=False,  # plain-text prompts, not HTML
        )
        self._env.filters["fence"] = defuse_fence_tags

    def path_for(self, name: str) -> Path:
        return self.prompts_dir / f"{name}.j2"

    def _template(self, name: str) -> jinja2.Template:
        if not _NAME_RE.fullmatch(name):
            raise PromptError(f"invalid prompt name {name!r}")
        file = self.path_for(name)
        try:
            return self._env.get_template(f"{name}.j2")
        except jinja2.TemplateNotFound:
            raise PromptError(f"prompt template not found: {file}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise PromptError(
                f"prompt template {file} has a syntax error on line {exc.lineno}: {exc.message}"
            ) from None

    def render(self, name: str, **context: object) -> str:
        """Render ``<name>.j2`` with ``context``; surrounding whitespace is stripped."""
        template = self._template(name)
        try:
            return template.render(**context).strip()
        except jinja2.UndefinedError as exc:
            raise PromptError(f"prompt template {self.path_for(name)}: {exc.message}") from None

    def validate(self, names: tuple[str, ...] = REQUIRED_PROMPTS) -> None:
        """Check that each named template exists and parses (for start-up checks); one error lists all."""
        problems: list[str] = []
        for name in names:
            try:
                self._template(name)
            except PromptError as exc:
                problems.append(str(exc))
        if problems:
            raise PromptError("; ".join(problems))
