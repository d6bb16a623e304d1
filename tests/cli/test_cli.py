"""The `advisor` command, run as a subprocess the way a user runs it.

Commands that read the index get ADVISOR_DATA_DIR pointing at a private copy of the session's
indexed bundled corpus; HF_HUB_OFFLINE=1 keeps the embedding model from touching the network.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from advisor.api.schemas import ChatOut, SearchHit
from advisor.corpus.check import markdown_files
from advisor.types import Citation
from tests.plugins.advisor_app import KNOWLEDGE, REPO

ADVISOR = Path(sys.executable).with_name("advisor")
QUESTION = "Our model works in a notebook but never reached production. What are we missing?"
SUMMARY = re.compile(
    r"^documents: (\d+) added, 0 updated, 0 unchanged, 0 removed, (\d+) skipped; "
    r"chunks: (\d+) \((\d+) embedded\); [\d.]+ s$",
    re.MULTILINE,
)

Run = Callable[..., subprocess.CompletedProcess[str]]


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update(HF_HUB_OFFLINE="1", NO_COLOR="1", COLUMNS="100", **extra)
    return env


@pytest.fixture(scope="module")
def cli_data_dir(indexed_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("cli") / "data"
    shutil.copytree(indexed_data_dir, target)
    return target


@pytest.fixture
def advisor(tmp_path: Path) -> Run:
    """advisor(*args, data_dir=None, cwd=None, **env) -> the finished process (cwd: a scratch dir)."""

    def run(
        *args: str, data_dir: Path | None = None, cwd: Path | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        extra = {"ADVISOR_DATA_DIR": str(data_dir or tmp_path / "data"), **env}
        return subprocess.run(
            [str(ADVISOR), *args],
            capture_output=True,
            text=True,
            cwd=cwd or tmp_path,
            env=_environment(**extra),
            timeout=240,
        )

    return run


def test_the_console_script_is_installed() -> None:
    assert ADVISOR.is_file(), f"{ADVISOR} is missing: run `pip install -e .` in the venv"


# -- ask and search -----------------------------------------------------------------------------


def test_ask_json_prints_the_chat_response_object(advisor: Run, cli_data_dir: Path) -> None:
    done = advisor("ask", QUESTION, "--json", data_dir=cli_data_dir)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert set(body) == set(ChatOut.model_fields)
    ChatOut.model_validate(body)
    assert body["abstained"] is False and body["grounded"] is True and body["fallback"] is False
    assert body["standalone_question"] == QUESTION
    assert body["citations"]
    for c in body["citations"]:
        assert set(c) == {f.name for f in dataclasses.fields(Citation)}
        assert f"[{c['n']}]" in body["answer"]

    # The conversation continues from the command line, in the plain-text form.
    follow = advisor(
        "ask",
        "Tell me more about the second step",
        "--conversation",
        body["conversation_id"],
        data_dir=cli_data_dir,
    )
    assert follow.returncode == 0, follow.stderr
    answer, _, tail = follow.stdout.partition("\nSources:\n")
    assert re.search(r"^\d+\. \*\*", answer, re.MULTILINE), follow.stdout
    assert re.search(r"^  \[1\] .+ > .+ \(.+\.md\)$", tail, re.MULTILINE), follow.stdout
    assert tail.rstrip().endswith(f"conversation: {body['conversation_id']}")


def test_ask_about_an_unknown_conversation_fails_cleanly(advisor: Run, cli_data_dir: Path) -> None:
    done = advisor("ask", QUESTION, "--conversation", "no-such-conversation", data_dir=cli_data_dir)
    assert done.returncode == 2
    assert done.stderr.strip() == "advisor: conversation no-such-conversation not found"


def test_ask_without_an_index_says_to_ingest(advisor: Run, tmp_path: Path) -> None:
    done = advisor("ask", QUESTION)  # an empty data directory
    assert done.returncode == 2
    assert done.stderr.strip().startswith("advisor: no index yet: run `advisor ingest` first (data: ")
    assert f"database: sqlite:///{tmp_path / 'data' / 'advisor.db'})" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_search_json_filters_by_topic(advisor: Run, cli_data_dir: Path) -> None:
    done = advisor(
        "search", "How should we hire and keep ML engineers?", "--json", "--k", "3", "--topic", "talent",
        data_dir=cli_data_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    results = body["results"]
    assert len(results) == 3
    for result in results:
        assert set(result) == set(SearchHit.model_fields)
        assert "talent" in result["topics"], result
        assert result["source"].endswith(".md") and result["text"]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)


# -- ingest and corpus check -------------------------------------------------------------------------


def _documents() -> list[Path]:
    """The bundled corpus's documents, as the loader finds them (README.md is not one)."""
    return markdown_files(KNOWLEDGE)


def _small_document() -> Path:
    return min(_documents(), key=lambda p: p.stat().st_size)


def test_ingest_names_a_malformed_file_and_exits_1(advisor: Run, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(_small_document(), corpus)
    (corpus / "broken.md").write_text(
        "---\ntitle: Broken\ntopics: monitoring\n---\n\n# Broken\n\nSome text about monitoring.\n"
    )
    done = advisor("ingest", str(corpus))
    assert done.returncode == 1, (done.stdout, done.stderr)
    problems = [line for line in done.stderr.splitlines() if line.startswith("skipped ")]
    assert len(problems) == 1 and "broken.md" in problems[0] and "topics" in problems[0], done.stderr
    summary = SUMMARY.search(done.stdout)
    assert summary is not None, done.stdout
    assert summary.group(1, 2) == ("1", "1")  # the good document is indexed anyway


def test_ingest_of_a_clean_corpus_prints_the_summary(advisor: Run, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(_small_document(), corpus)
    done = advisor("ingest", str(corpus))
    assert done.returncode == 0, done.stderr
    assert "skipped " not in done.stderr
    summary = SUMMARY.fullmatch(done.stdout.strip())
    assert summary is not None, done.stdout
    added, skipped, chunks, embedded = (int(g) for g in summary.groups())
    assert (added, skipped) == (1, 0) and chunks == embedded > 0


def test_corpus_check_passes_on_the_bundled_corpus(advisor: Run) -> None:
    done = advisor("corpus", "check", "knowledge", cwd=REPO)
    assert done.returncode == 0, done.stdout
    documents = len(_documents())
    assert done.stdout.strip().splitlines()[-1] == f"{documents} documents checked, 0 problems"


# -- help and settings --------------------------------------------------------------------------------

_HELP_PROBE = """
import json, sys
from typer.testing import CliRunner
from advisor.cli.main import app

runner = CliRunner()
commands = ["--help", "ask --help", "search --help", "ingest --help", "serve --help", "corpus --help",
            "corpus check --help"]
results = {args: runner.invoke(app, args.split()) for args in commands}
heavy = ["torch", "sentence_transformers", "transformers", "chromadb", "langchain_openai", "sqlalchemy"]
print(json.dumps({
    "codes": {args: r.exit_code for args, r in results.items()},
    "help": results["--help"].output,
    "imported": [name for name in heavy if name in sys.modules],
}))
"""


def test_help_lists_every_command_without_importing_heavy_libraries(tmp_path: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", _HELP_PROBE],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environment(),
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout)
    assert set(report["codes"].values()) == {0}, report["codes"]
    assert report["imported"] == []
    for command in ("ingest", "search", "ask", "serve", "corpus"):
        assert re.search(rf"^│ {command} ", report["help"], re.MULTILINE), report["help"]


def test_the_installed_command_prints_help(advisor: Run) -> None:
    done = advisor("--help")
    assert done.returncode == 0, done.stderr
    for command in ("ingest", "search", "ask", "serve", "corpus"):
        assert re.search(rf"\b{command}\b", done.stdout), done.stdout


def test_a_bad_setting_exits_2_with_one_line_naming_it(advisor: Run, cli_data_dir: Path) -> None:
    done = advisor("ask", QUESTION, data_dir=cli_data_dir, ADVISOR_LLM__PROVIDER="bogus")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("advisor: invalid settings: llm.provider (ADVISOR_LLM__PROVIDER):"), lines
    assert "bogus" not in done.stdout and done.stdout == ""
