from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from advisor.corpus.loaders import LoaderError, discover_files, load_document
from advisor.corpus.taxonomy import BUILTIN_TOPICS, CorpusError, load_topics
from advisor.types import Section

TOPICS = dict(BUILTIN_TOPICS)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_pdf(path: Path, pages: list[list[str]], title: str | None = None) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    if title is not None:
        pdf.setTitle(title)
    for lines in pages:
        y = 800
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 16
        pdf.showPage()
    pdf.save()
    return path


# --------------------------------------------------------------------------- taxonomy


def test_builtin_topics_are_the_thirteen_taxonomy_ids() -> None:
    assert set(BUILTIN_TOPICS) == {
        "business-objectives",
        "data-quality",
        "infrastructure",
        "scalability",
        "deployment",
        "testing-validation",
        "monitoring",
        "security-governance",
        "change-management",
        "talent",
        "strategy-roadmap",
        "explainability",
        "use-cases",
    }
    assert all(description.strip() and "\n" not in description for description in BUILTIN_TOPICS.values())


def test_load_topics_adds_declared_topics(tmp_path: Path) -> None:
    assert load_topics(tmp_path) == BUILTIN_TOPICS
    write(tmp_path / "topics.yaml", "procurement: Buying AI products and services\n")
    topics = load_topics(tmp_path)
    assert topics["procurement"] == "Buying AI products and services"
    assert set(BUILTIN_TOPICS) <= set(topics)


def test_load_topics_reports_yaml_error_with_line(tmp_path: Path) -> None:
    write(tmp_path / "topics.yaml", "procurement: fine\nvendors: [unclosed\nother: x\n")
    with pytest.raises(CorpusError) as info:
        load_topics(tmp_path)
    assert "topics.yaml" in str(info.value)
    assert info.value.line is not None and info.value.line >= 2


@pytest.mark.parametrize(
    "content", ["- a\n- b\n", "Bad_Id: description\n", "procurement: [not, text]\n", "-lead: x\n"]
)
def test_load_topics_rejects_malformed_files(tmp_path: Path, content: str) -> None:
    write(tmp_path / "topics.yaml", content)
    with pytest.raises(CorpusError, match=r"topics\.yaml"):
        load_topics(tmp_path)


# --------------------------------------------------------------------------- discovery


def test_discover_files_walks_directories_and_skips_what_it_should(tmp_path: Path) -> None:
    for name in [
        "a.md",
        "b.markdown",
        "c.txt",
        "d.html",
        "e.htm",
        "f.pdf",
        "sub/g.md",
        "README.md",
        "sub/readme.MD",
        "topics.yaml",
        "_draft.md",
        ".hidden.md",
        ".git/h.md",
        "sub/.cache/i.md",
        "notes.docx",
        "image.png",
    ]:
        write(tmp_path / name, "x")
    found = discover_files([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.md",
        "b.markdown",
        "c.txt",
        "d.html",
        "e.htm",
        "f.pdf",
        "sub/g.md",
    ]


def test_discover_files_accepts_files_and_deduplicates(tmp_path: Path) -> None:
    a = write(tmp_path / "a.md", "x")
    b = write(tmp_path / "b.md", "x")
    found = discover_files([b, tmp_path, a, tmp_path / "." / "a.md"])
    assert found == [a, b]


def test_discover_files_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="no such file"):
        discover_files([tmp_path / "nope"])


# --------------------------------------------------------------------------- Markdown

FRONT_MATTER_DOC = """---
id: scaling-guide
title: Scaling guide
topics: [scalability, deployment]
summary: How to scale.
updated: 2025-01-31
url: https://example.com/scaling
---

Intro paragraph before any heading.

## First steps

- **Measure** first.
- Then act.

## Scaling

### Horizontal scaling

Add replicas.

```python
# not a heading
x = 1
```

### Vertical scaling

Bigger machines.

## Empty

## Last

Done.
"""


def test_markdown_with_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path / "docs" / "scaling.md", FRONT_MATTER_DOC)
    doc = load_document(path, tmp_path, TOPICS)
    assert doc.doc_id == "scaling-guide"
    assert doc.title == "Scaling guide"
    assert doc.topics == ("scalability", "deployment")
    assert doc.summary == "How to scale."
    assert doc.source == "docs/scaling.md"
    assert doc.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    paths = [s.heading_path for s in doc.sections]
    assert paths == [
        ("Overview",),
        ("First steps",),
        ("Scaling", "Horizontal scaling"),
        ("Scaling", "Vertical scaling"),
        ("Last",),
    ]
    assert doc.sections[0].text == "Intro paragraph before any heading."
    assert doc.sections[1].text == "- **Measure** first.\n- Then act."
    horizontal = doc.sections[2].text
    assert "# not a heading" in horizontal and horizontal.startswith("Add replicas.")
    assert horizontal.endswith("```")


def test_markdown_without_front_matter_uses_stem_and_first_heading(tmp_path: Path) -> None:
    path = write(
        tmp_path / "My Notes_v2.md",
        "# Team notes\n\nOpening words.\n\n## Goals\n\nShip it.\n\n### Detail\n\nMore.\n",
    )
    doc = load_document(path, tmp_path, TOPICS)
    assert doc.doc_id == "my-notes-v2"
    assert doc.title == "Team notes"
    assert doc.topics == ()
    assert doc.summary == ""
    assert doc.sections == (
        Section(("Overview",), "Opening words."),
        Section(("Goals",), "Ship it."),
        Section(("Goals", "Detail"), "More."),
    )


def test_markdown_without_heading_uses_stem_as_title(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path / "plain.md", "Just text.\n"), tmp_path, TOPICS)
    assert doc.title == "plain"
    assert doc.sections == (Section(("Overview",), "Just text."),)


def test_markdown_with_several_top_level_headings_keeps_them_in_paths(tmp_path: Path) -> None:
    path = write(tmp_path / "multi.md", "# One\n\nA.\n\n## Sub\n\nB.\n\n# Two\n\nC.\n")
    doc = load_document(path, tmp_path, TOPICS)
    assert doc.title == "One"
    assert [s.heading_path for s in doc.sections] == [("One",), ("One", "Sub"), ("Two",)]


def test_headings_inside_tilde_fences_are_not_headings(tmp_path: Path) -> None:
    path = write(tmp_path / "f.md", "## Real\n\n~~~\n## fake\n~~~\n\nafter\n")
    doc = load_document(path, tmp_path, TOPICS)
    assert [s.heading_path for s in doc.sections] == [("Real",)]
    assert "## fake" in doc.sections[0].text


def test_malformed_front_matter_reports_the_file_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.md",
        "---\nid: bad\ntitle: Bad\ntopics: [data-quality\nsummary: x\n---\n\nBody.\n",
    )
    with pytest.raises(LoaderError) as info:
        load_document(path, tmp_path, TOPICS)
    error = info.value
    assert error.path == path
    # The unclosed flow sequence opens on line 4; YAML notices the problem on line 5.
    assert error.line == 5
    assert str(error).startswith(f"{path}:5: ")
    assert "YAML" in error.reason


def test_front_matter_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "list.md", "---\n- a\n- b\n---\nBody.\n")
    with pytest.raises(LoaderError, match="mapping"):
        load_document(path, tmp_path, TOPICS)


def test_unclosed_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path / "open.md", "---\nid: x\n\nBody.\n")
    with pytest.raises(LoaderError, match="closing") as info:
        load_document(path, tmp_path, TOPICS)
    assert info.value.line == 1


def test_unknown_topic_names_topic_and_topics_yaml(tmp_path: Path) -> None:
    path = write(tmp_path / "t.md", "---\nid: t\ntitle: T\ntopics: [data-quality, quantum]\n---\n\nBody.\n")
    with pytest.raises(LoaderError) as info:
        load_document(path, tmp_path, TOPICS)
    assert "'quantum'" in info.value.reason
    assert "topics.yaml" in info.value.reason
    assert info.value.line == 4
    doc = load_document(path, tmp_path, {**TOPICS, "quantum": "Quantum computing"})
    assert doc.topics == ("data-quality", "quantum")


@pytest.mark.parametrize(
    ("front_matter", "fragment"),
    [
        ("id: Not A Slug", "slug"),
        ("topics: data-quality", "list"),
        ("updated: soon", "date"),
        ("url: ftp://x", "http"),
        ("title: [a, b]", "title"),
    ],
)
def test_invalid_front_matter_values(tmp_path: Path, front_matter: str, fragment: str) -> None:
    path = write(tmp_path / "v.md", f"---\n{front_matter}\n---\n\nBody.\n")
    with pytest.raises(LoaderError, match=fragment) as info:
        load_document(path, tmp_path, TOPICS)
    assert info.value.line == 2


def test_source_outside_root_is_absolute(tmp_path: Path) -> None:
    path = write(tmp_path / "a" / "doc.md", "Text.\n")
    doc = load_document(path, tmp_path / "b", TOPICS)
    assert doc.source == str(path.resolve())


def test_non_utf8_file_is_a_loader_error(tmp_path: Path) -> None:
    path = tmp_path / "latin.md"
    path.write_bytes("# Title\n\nCaf\u00e9 cr\u00e8me\n".encode("latin-1"))
    with pytest.raises(LoaderError, match="UTF-8") as info:
        load_document(path, tmp_path, TOPICS)
    assert info.value.line == 3


def test_empty_file_is_a_loader_error(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="no text"):
        load_document(
            write(tmp_path / "empty.md", "---\nid: e\n---\n\n## Only a heading\n"), tmp_path, TOPICS
        )


def test_unsupported_extension(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="unsupported"):
        load_document(write(tmp_path / "a.docx", "x"), tmp_path, TOPICS)


def test_loader_error_str_formats() -> None:
    assert str(LoaderError(Path("a.md"), "bad", 3)) == "a.md:3: bad"
    assert str(LoaderError(Path("a.md"), "bad")) == "a.md: bad"


# --------------------------------------------------------------------------- plain text


def test_plain_text(tmp_path: Path) -> None:
    path = write(
        tmp_path / "Field Notes.txt",
        "\n\nField notes on pilots\n\nFirst paragraph\ncontinues here.\n\n\n\nSecond paragraph.\n",
    )
    doc = load_document(path, tmp_path, TOPICS)
    assert doc.doc_id == "field-notes"
    assert doc.title == "Field notes on pilots"
    assert doc.sections == (Section(("Overview",), "First paragraph\ncontinues here.\n\nSecond paragraph."),)


# --------------------------------------------------------------------------- HTML

HTML_DOC = """<!doctype html>
<html><head><title>Monitoring guide</title>
<style>body { color: red; }</style>
<script>var secret = "do not index";</script>
</head>
<body>
<header><p>Site header text</p></header>
<nav><ul><li>Home</li><li>About</li></ul></nav>
<h1>Monitoring guide</h1>
<p>Why monitoring
   matters.</p>
<h2>Drift</h2>
<p>Watch the inputs.</p>
<ul><li>Data drift</li><li>Concept <b>drift</b>
  <ul><li>Gradual</li></ul></li></ul>
<script>alert("nope")</script>
<h3>Tools</h3>
<p>Use <a href="x">dashboards</a>, see line<br>one line<br/>two.</p>
<footer><p>Copyright footer</p></footer>
</body></html>
"""


def test_html(tmp_path: Path) -> None:
    path = write(tmp_path / "monitoring.html", HTML_DOC)
    doc = load_document(path, tmp_path, TOPICS)
    assert doc.doc_id == "monitoring"
    assert doc.title == "Monitoring guide"
    assert doc.sections == (
        Section(("Overview",), "Why monitoring matters."),
        Section(("Drift",), "Watch the inputs.\n\n- Data drift\n- Concept drift\n  - Gradual"),
        Section(("Drift", "Tools"), "Use dashboards, see line one line two."),
    )
    everything = " ".join(s.text for s in doc.sections)
    for dropped in ("secret", "alert", "Site header", "Home", "Copyright", "color"):
        assert dropped not in everything


def test_html_title_falls_back_to_first_h1(tmp_path: Path) -> None:
    path = write(tmp_path / "page.htm", "<body><h1>Only heading</h1><p>Text.</p></body>")
    doc = load_document(path, tmp_path, TOPICS)
    assert doc.title == "Only heading"
    assert doc.sections == (Section(("Overview",), "Text."),)


def test_html_with_declared_charset(tmp_path: Path) -> None:
    path = tmp_path / "latin.html"
    html = '<html><head><meta charset="iso-8859-1"><title>Caf\u00e9</title></head>'
    html += "<body><p>cr\u00e8me</p></body></html>"
    path.write_bytes(html.encode("latin-1"))
    doc = load_document(path, tmp_path, TOPICS)
    assert doc.title == "Caf\u00e9"
    assert doc.sections[0].text == "cr\u00e8me"


# --------------------------------------------------------------------------- PDF


def test_pdf_one_section_per_page(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "report.pdf",
        [["Readiness report", "Data quality matters most."], [], ["Second page text."]],
        title="Readiness Report 2025",
    )
    doc = load_document(path, tmp_path, TOPICS)
    assert doc.doc_id == "report"
    assert doc.title == "Readiness Report 2025"
    assert [s.heading_path for s in doc.sections] == [("Page 1",), ("Page 3",)]
    assert "Data quality matters most." in doc.sections[0].text
    assert doc.sections[1].text == "Second page text."


def test_pdf_title_falls_back_to_first_line(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "untitled.pdf", [["First line title", "Body text."]])
    doc = load_document(path, tmp_path, TOPICS)
    assert doc.title == "First line title"


def test_pdf_without_text_is_a_loader_error(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", [[], []])
    with pytest.raises(LoaderError, match=r"no extractable text \(scanned PDF\?\)"):
        load_document(path, tmp_path, TOPICS)


@pytest.mark.parametrize(
    "content", [b"this is not a pdf at all", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", b""]
)
def test_corrupt_pdf_is_a_loader_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    with pytest.raises(LoaderError) as info:
        load_document(path, tmp_path, TOPICS)
    assert info.value.path == path


def test_truncated_real_pdf_is_a_loader_error(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", [["Some text here."]])
    broken = tmp_path / "truncated.pdf"
    broken.write_bytes(good.read_bytes()[:200])
    with pytest.raises(LoaderError):
        load_document(broken, tmp_path, TOPICS)
