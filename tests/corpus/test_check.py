from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.corpus import corpus_app
from advisor.corpus.check import Problem, check_corpus, markdown_files
from advisor.corpus.loaders import parse_front_matter
from advisor.corpus.taxonomy import BUILTIN_TOPICS

REPO_ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO_ROOT / "knowledge"

MIN, MAX = 20, 200


def body(n_words: int, heading: str = "Details") -> str:
    return f"## {heading}\n\n" + " ".join(f"word{i}" for i in range(n_words)) + "\n"


def front(
    doc_id: str = "doc",
    title: str = "A title",
    topics: str = "[data-quality]",
    summary: str = "What it answers.",
    updated: str = "2025-01-31",
    extra: str = "",
) -> str:
    lines = ["---"]
    for key, value in (
        ("id", doc_id),
        ("title", title),
        ("topics", topics),
        ("summary", summary),
        ("updated", updated),
    ):
        if value != "":
            lines.append(f"{key}: {value}")
    if extra:
        lines.append(extra)
    lines.append("---")
    return "\n".join(lines) + "\n\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def messages(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, messages(problems)
    return problems[0]


def test_clean_corpus_has_no_problems(tmp_path: Path) -> None:
    write(
        tmp_path / "a.md", front("a") + body(50) + "\nSee [b](sub/b.md#part) and [web](https://x.org/y.md).\n"
    )
    write(tmp_path / "sub" / "b.md", front("b", topics="[talent, use-cases, monitoring]") + body(50))
    write(tmp_path / "README.md", "# Not a document\n")
    assert check_corpus(tmp_path, min_words=MIN, max_words=MAX) == []


def test_problem_prints_as_path_line_message() -> None:
    assert str(Problem(Path("k/a.md"), 3, "bad")) == "k/a.md:3: bad"
    assert str(Problem(Path("k/a.md"), None, "bad")) == "k/a.md: bad"


def test_missing_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", body(50))
    problem = only(check_corpus(tmp_path, MIN, MAX))
    assert problem.path == path and problem.line == 1
    assert "no front matter" in problem.message and "updated" in problem.message


def test_malformed_yaml_reports_line(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "---\nid: a\ntitle: A\ntopics: [data-quality\nsummary: s\n---\n\n" + body(50))
    problem = only(check_corpus(tmp_path, MIN, MAX))
    assert problem.line == 5
    assert "YAML" in problem.message


def test_missing_required_keys(tmp_path: Path) -> None:
    write(tmp_path / "a.md", front("a", summary="", updated="") + body(50))
    found = messages(check_corpus(tmp_path, MIN, MAX))
    assert len(found) == 2
    assert any("missing 'summary'" in m for m in found)
    assert any("missing 'updated'" in m and "updated: " in m for m in found)


def test_updated_must_be_a_date(tmp_path: Path) -> None:
    write(tmp_path / "a.md", front("a", updated="last week") + body(50))
    problem = only(check_corpus(tmp_path, MIN, MAX))
    assert problem.line == 6 and "YYYY-MM-DD" in problem.message


def test_id_must_be_a_slug(tmp_path: Path) -> None:
    write(tmp_path / "a.md", front("My Doc") + body(50))
    problem = only(check_corpus(tmp_path, MIN, MAX))
    assert problem.line == 2 and "slug" in problem.message and "my-doc" in problem.message


def test_duplicate_id_names_the_other_file(tmp_path: Path) -> None:
    write(tmp_path / "a.md", front("same") + body(50))
    second = write(tmp_path / "z" / "b.md", front("same") + body(50))
    problem = only(check_corpus(tmp_path, MIN, MAX))
    assert problem.path == second
    assert "a.md" in problem.message and "unique" in problem.message


@pytest.mark.parametrize(
    ("topics", "fragment"),
    [
        ("[]", "empty"),
        ("[talent, monitoring, deployment, use-cases]", "4 topics"),
        ("[talent, quantum]", "unknown topic 'quantum'"),
        ("talent", "must be a list"),
        ("[talent, talent]", "twice"),
    ],
)
def test_topic_problems(tmp_path: Path, topics: str, fragment: str) -> None:
    write(tmp_path / "a.md", front("a", topics=topics) + body(50))
    problem = only(check_corpus(tmp_path, MIN, MAX))
    assert fragment in problem.message
    assert problem.line == 4


def test_unknown_topic_message_mentions_topics_yaml(tmp_path: Path) -> None:
    write(tmp_path / "a.md", front("a", topics="[quantum]") + body(50))
    assert "topics.yaml" in only(check_corpus(tmp_path, MIN, MAX)).message
    write(tmp_path / "topics.yaml", "quantum: Quantum computing for AI workloads\n")
    assert check_corpus(tmp_path, MIN, MAX) == []


def test_malformed_topics_yaml_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path / "topics.yaml", "quantum: ok\nbroken: [\n")
    write(tmp_path / "a.md", front("a") + body(50))
    problem = only(check_corpus(tmp_path, MIN, MAX))
    assert problem.path == tmp_path / "topics.yaml"


def test_word_count_range(tmp_path: Path) -> None:
    write(tmp_path / "short.md", front("short") + body(10))
    write(tmp_path / "long.md", front("long") + body(300))
    found = {p.path.name: p.message for p in check_corpus(tmp_path, MIN, MAX)}
    assert "11 words" in found["short.md"] and f"{MIN}-{MAX}" in found["short.md"]
    assert "301 words" in found["long.md"] and "split" in found["long.md"]


def test_empty_sections(tmp_path: Path) -> None:
    text = (
        front("a")
        + "Intro words here.\n\n"
        + "## Parent\n\n### Child\n\nChild text.\n\n"  # parent followed by a deeper heading: fine
        + "## Empty same level\n\n## Full\n\nText.\n\n"
        + "### Empty before higher\n\n## Next\n\n"
        + "```\n## Not a heading\n```\n\n"
        + body(40, "Words")
        + "\n## Empty at end\n"
    )
    path = write(tmp_path / "a.md", text)
    problems = check_corpus(tmp_path, MIN, MAX)
    lines = path.read_text().split("\n")
    expected = {
        lines.index("## Empty same level") + 1,
        lines.index("### Empty before higher") + 1,
        lines.index("## Empty at end") + 1,
    }
    assert {p.line for p in problems} == expected, messages(problems)
    assert all("is empty" in p.message for p in problems)


def test_links(tmp_path: Path) -> None:
    write(tmp_path / "other.md", front("other") + body(50))
    text = (
        front("a")
        + body(50)
        + "\n[ok](other.md) [anchor](other.md#section) [self](#details) [web](http://example.com/x.md)\n"
        + "[mail](mailto:someone@example.com) [img](diagram.png)\n"
        + "[broken](missing.md)\n"
        + "Inline `[code](nothere.md)` is ignored.\n\n"
        + "```\n[fenced](nothere.md)\n```\n\n"
        + "[escape](../outside.md)\n\n"
        + "[ref]: gone.md#x\n"
    )
    path = write(tmp_path / "a.md", text)
    write(tmp_path.parent / "outside.md", "outside the corpus")
    problems = check_corpus(tmp_path, MIN, MAX)
    lines = path.read_text().split("\n")
    by_line = {p.line: p.message for p in problems}
    assert set(by_line) == {
        lines.index("[broken](missing.md)") + 1,
        lines.index("[escape](../outside.md)") + 1,
        lines.index("[ref]: gone.md#x") + 1,
    }, messages(problems)
    assert "missing.md" in by_line[lines.index("[broken](missing.md)") + 1]
    assert "outside the corpus" in by_line[lines.index("[escape](../outside.md)") + 1]


def test_only_markdown_files_are_checked(tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", "plain text is not linted")
    write(tmp_path / "_draft.md", "no front matter but skipped")
    write(tmp_path / "a.md", front("a") + body(50))
    assert markdown_files(tmp_path) == [tmp_path / "a.md"]
    assert check_corpus(tmp_path, MIN, MAX) == []


# --------------------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_clean_corpus(tmp_path: Path) -> None:
    write(tmp_path / "a.md", front("a") + body(50))
    write(tmp_path / "b.md", front("b") + body(50))
    result = runner.invoke(corpus_app, ["check", str(tmp_path), "--min-words", "20", "--max-words", "200"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "2 documents checked, 0 problems"


def test_cli_reports_problems_and_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", front("a") + body(10))
    write(tmp_path / "b.md", front("b", topics="[nope]") + body(50))
    result = runner.invoke(corpus_app, ["check", str(tmp_path), "--min-words", "20", "--max-words", "200"])
    assert result.exit_code == 1
    out = result.output.strip().splitlines()
    assert out[0].startswith(f"{path}: body has 11 words")
    assert out[1].startswith(f"{tmp_path / 'b.md'}:4: unknown topic 'nope'")
    assert out[-1] == "2 documents checked, 2 problems"


def test_cli_word_limits_default_to_400_1200(tmp_path: Path) -> None:
    write(tmp_path / "a.md", front("a") + body(50))
    result = runner.invoke(corpus_app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert "400-1200" in result.output
    assert result.output.strip().splitlines()[-1] == "1 document checked, 1 problem"


def test_cli_missing_path_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(corpus_app, ["check", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such file or directory" in result.output


def test_cli_default_path_is_knowledge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(corpus_app, ["check"]).exit_code == 2
    write(tmp_path / "knowledge" / "a.md", front("a") + body(50))
    result = runner.invoke(corpus_app, ["check", "--min-words", "1"])
    assert result.exit_code == 0, result.output
    assert "1 document checked, 0 problems" in result.output


def test_cli_module_imports_no_heavy_dependencies() -> None:
    import subprocess
    import sys

    code = (
        "import sys, advisor.cli.corpus; "
        "heavy = [m for m in ('yaml', 'bs4', 'pypdf', 'torch', 'chromadb') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# --------------------------------------------------------------------------- the bundled corpus


def test_bundled_knowledge_corpus_is_clean_and_covers_every_topic() -> None:
    if not KNOWLEDGE.is_dir():
        pytest.skip(f"no bundled corpus at {KNOWLEDGE}")
    problems = check_corpus(KNOWLEDGE)
    assert problems == [], "knowledge/ has problems:\n" + "\n".join(messages(problems))
    files = markdown_files(KNOWLEDGE)
    assert len(files) >= 50, f"knowledge/ has {len(files)} documents; at least 50 are expected"
    primary: Counter[str] = Counter()
    for file in files:
        fm = parse_front_matter(file.read_text(encoding="utf-8"))
        assert fm is not None
        primary[fm.data["topics"][0]] += 1
    thin = {topic: primary[topic] for topic in BUILTIN_TOPICS if primary[topic] < 3}
    assert not thin, f"built-in topics that are the primary topic of fewer than 3 documents: {thin}"


def test_text_html_and_pdf_files_are_checked_as_ingest_reads_them(tmp_path: Path) -> None:
    # Before, `corpus check` looked at Markdown only, though ingest takes these formats too.
    write(tmp_path / "a.md", front("a") + body(50))
    write(tmp_path / "canary-notes.txt", "Canary releases\n\nStart a new model on one percent of traffic.\n")
    write(tmp_path / "empty.html", "<html><body><h1>Only a title</h1></body></html>")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really a PDF")
    write(tmp_path / "a.txt", "A text file whose id, from its name, is the Markdown document's.\n")
    problems = messages(check_corpus(tmp_path, min_words=MIN, max_words=MAX))
    assert len(problems) == 3, problems
    assert any(p.startswith(f"{tmp_path / 'broken.pdf'}: cannot read the PDF") for p in problems)
    assert any(p.startswith(f"{tmp_path / 'empty.html'}: no text to index") for p in problems)
    assert any(
        p.startswith(f"{tmp_path / 'a.txt'}: id 'a' (from the file name) is also used by") for p in problems
    )

    done = CliRunner().invoke(corpus_app, ["check", str(tmp_path), "--min-words", str(MIN)])
    assert done.exit_code == 1 and "5 documents checked, 3 problems" in done.output
