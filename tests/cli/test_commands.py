"""The `advisor` commands' own logic, in-process with typer's CliRunner over fast containers (the
hashing embedder and the in-memory vector store, tests/plugins/fast.py): ask, search, ingest,
corpus check, keys and widget create-key.

The command builds no container of its own: ``advisor.cli.common.build_container`` (ask, search,
ingest) and ``advisor.settings.get_settings`` (keys) are pointed at the test's container. What needs
a real process (the installed script, help without heavy imports, settings from the environment,
serve's binding rules) is in test_cli.py and test_keys.py.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.api.schemas import ChatOut, SearchHit
from advisor.auth.widget_keys import WidgetKeyring
from advisor.cli.main import app as cli_app
from advisor.corpus.check import markdown_files
from advisor.settings import load_settings
from advisor.types import Citation
from tests.chat.helpers import HIRING_QUESTION, NOTEBOOK_QUESTION, NOTHING_IN_SCOPE
from tests.cli.conftest import Invoke
from tests.plugins.advisor_app import KNOWLEDGE
from tests.plugins.fast import FastContainer, FastServer
from tests.plugins.small_corpus import SMALL_CORPUS, write_small_corpus

SUMMARY = re.compile(
    r"^documents: (\d+) added, (\d+) updated, (\d+) unchanged, (\d+) removed, (\d+) skipped; "
    r"chunks: (\d+) \((\d+) embedded\); [\d.]+ s$"
)


def _parts(stdout: str) -> tuple[str, list[str], str]:
    """(answer, source lines, conversation id) of `advisor ask`'s plain output."""
    body, _, conversation = stdout.rstrip("\n").rpartition("\n\nconversation: ")
    answer, _, sources = body.partition("\n\nSources:\n")
    return answer, sources.splitlines(), conversation


# -- ask ---------------------------------------------------------------------------------------------


def test_ask_prints_the_answer_its_sources_and_the_conversation(
    fast_container: FastContainer, invoke: Invoke
) -> None:
    container = fast_container()
    done = invoke(container, "ask", NOTEBOOK_QUESTION, "--initiative", "Churn model, three CRMs")
    assert done.exit_code == 0, done.output
    assert done.stderr == ""
    answer, sources, conversation = _parts(done.stdout)
    assert re.search(r"\[1\]$", answer.splitlines()[0]), answer
    assert re.search(r"^\d\. \*\*.+\*\* .*\[\d\]$", answer, re.MULTILINE), answer
    assert "You mentioned three CRMs:" in answer, answer  # the initiative's fact, in the team's words

    stored = container.conversations.list_messages(conversation)
    assert [(m.role, m.content) for m in stored] == [("user", NOTEBOOK_QUESTION), ("assistant", answer)]
    # One line per citation, numbered as in the answer: "  [n] Title > Section (source.md)".
    citations = stored[1].citations
    assert sources and len(sources) == len(citations)
    for line, c in zip(sources, citations, strict=True):
        assert line == f"  [{c.n}] {c.title} > {c.section} ({c.source})" and c.source.endswith(".md")
        assert f"[{c.n}]" in answer
    record = container.conversations.get_conversation(conversation, None)
    assert record is not None and record.initiative == "Churn model, three CRMs"


def test_ask_json_is_the_chat_response_object_of_the_http_api(
    fast_server: FastServer, invoke: Invoke
) -> None:
    with fast_server() as live, live.client() as http:
        done = invoke(live.container, "ask", NOTEBOOK_QUESTION, "--json")
        over_http = http.post("/v1/chat", json={"message": NOTEBOOK_QUESTION})
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert list(body) == list(ChatOut.model_fields)
    ChatOut.model_validate(body)
    assert over_http.status_code == 200, over_http.text
    ids = ("conversation_id", "message_id")
    assert {k: v for k, v in body.items() if k not in ids} == {
        k: v for k, v in over_http.json().items() if k not in ids
    }
    assert (body["abstained"], body["grounded"], body["fallback"]) == (False, True, False)
    assert body["standalone_question"] == NOTEBOOK_QUESTION and body["citations"]
    for c in body["citations"]:
        assert set(c) == {f.name for f in dataclasses.fields(Citation)}
        assert f"[{c['n']}]" in body["answer"]
    stored = live.container.conversations.list_messages(body["conversation_id"])
    assert [m.id for m in stored][-1] == body["message_id"]


def test_ask_continues_a_conversation(fast_container: FastContainer, invoke: Invoke) -> None:
    container = fast_container()
    first = json.loads(invoke(container, "ask", NOTEBOOK_QUESTION, "--json").stdout)
    follow_up = "Tell me more about the second step"
    done = invoke(container, "ask", follow_up, "--conversation", first["conversation_id"], "--json")
    assert done.exit_code == 0, done.output
    second = json.loads(done.stdout)
    assert second["conversation_id"] == first["conversation_id"]
    assert second["standalone_question"].startswith(f"{follow_up} (about: ")
    assert second["standalone_question"].endswith(f"(context: {NOTEBOOK_QUESTION})")
    stored = container.conversations.list_messages(first["conversation_id"])
    assert [(m.role, m.content) for m in stored][2:] == [("user", follow_up), ("assistant", second["answer"])]

    # Plain output names the same conversation.
    again = invoke(container, "ask", "And then what?", "--conversation", first["conversation_id"])
    assert again.exit_code == 0, again.output
    assert _parts(again.stdout)[2] == first["conversation_id"]
    assert len(container.conversations.list_messages(first["conversation_id"])) == 6


def test_ask_about_an_unknown_conversation_fails_cleanly(
    fast_container: FastContainer, invoke: Invoke
) -> None:
    container = fast_container()
    done = invoke(container, "ask", NOTEBOOK_QUESTION, "--conversation", "no-such-conversation")
    assert done.exit_code == 2
    assert done.stderr.strip() == "advisor: conversation no-such-conversation not found"
    assert done.stdout == ""


def test_ask_without_an_index_says_to_ingest(
    fast_container: FastContainer, invoke: Invoke, tmp_path: Path
) -> None:
    container = fast_container(fresh_vectors=True, data_dir=tmp_path / "empty")
    for args in (("ask", NOTEBOOK_QUESTION), ("search", "canary release")):
        done = invoke(container, *args)
        assert done.exit_code == 2, done.output
        # It says where it looked: an index elsewhere is then plain to see.
        assert done.stderr.strip() == (
            f"advisor: no index yet: run `advisor ingest` first ({container.settings.storage_line()})"
        )
        assert f"data: {tmp_path / 'empty'};" in done.stderr
        assert done.stdout == ""


def test_ask_with_a_topic_cites_only_that_topic_and_abstains_out_of_scope(
    fast_container: FastContainer, invoke: Invoke
) -> None:
    done = invoke(fast_container(), "ask", HIRING_QUESTION, "--topic", "talent", "--json")
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert body["citations"] and all("talent" in c["topics"] for c in body["citations"])

    out_of_scope = invoke(fast_container(**NOTHING_IN_SCOPE), "ask", HIRING_QUESTION)
    assert out_of_scope.exit_code == 0, out_of_scope.output
    answer, sources, _ = _parts(out_of_scope.stdout)
    assert answer.startswith("I can't answer that from Advisor's guidance") and sources == []
    assert "Sources:" not in out_of_scope.stdout


# -- search ------------------------------------------------------------------------------------------


def test_search_json_is_the_search_response_object_of_the_http_api(
    fast_server: FastServer, invoke: Invoke
) -> None:
    query = "How should we hire and keep ML engineers?"
    with fast_server() as live, live.client() as http:
        done = invoke(live.container, "search", query, "--json", "--k", "3", "--topic", "talent")
        over_http = http.post("/v1/search", json={"query": query, "k": 3, "topics": ["talent"]})
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout)
    assert body == over_http.json()
    assert body["in_scope"] is True and len(body["results"]) == 3
    for result in body["results"]:
        assert set(result) == set(SearchHit.model_fields)
        assert "talent" in result["topics"], result
        assert result["source"].endswith(".md") and result["text"]
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_search_prints_one_entry_per_passage(fast_container: FastContainer, invoke: Invoke) -> None:
    container = fast_container()
    done = invoke(container, "search", "canary release rollback", "--k", "4")
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    found = json.loads(invoke(container, "search", "canary release rollback", "--k", "4", "--json").stdout)
    assert 1 <= len(found["results"]) <= 4 and len(lines) == 2 * len(found["results"]), done.stdout
    for n, (head, detail, hit) in enumerate(zip(lines[::2], lines[1::2], found["results"], strict=True), 1):
        topics = ", ".join(hit["topics"])
        assert head == f"{n}. {hit['title']} > {hit['section']}  [{topics}]  score {hit['score']:.4f}"
        assert detail.startswith(f"   {hit['source']}: ") and len(detail) <= 3 + len(hit["source"]) + 2 + 160

    out_of_scope = invoke(fast_container(**NOTHING_IN_SCOPE), "search", "canary release")
    assert out_of_scope.exit_code == 0
    assert out_of_scope.stdout.splitlines()[0] == (
        "(nothing in the corpus clears the relevance floor: this looks out of scope)"
    )


def test_search_refuses_an_unknown_topic_and_a_bad_k(fast_container: FastContainer, invoke: Invoke) -> None:
    container = fast_container()
    unknown = invoke(container, "search", "canary release", "--topic", "nosuchtopic")
    assert unknown.exit_code == 2 and unknown.stderr.strip() == "advisor: unknown topics: nosuchtopic"
    too_many = invoke(container, "search", "canary release", "--k", "51")
    assert too_many.exit_code == 2 and "--k" in too_many.stderr


# -- ingest ------------------------------------------------------------------------------------------


def test_ingest_of_a_small_corpus_prints_the_summary_and_indexes_it(
    fast_container: FastContainer, invoke: Invoke, tmp_path: Path
) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    container = fast_container(fresh_vectors=True, data_dir=tmp_path / "data", knowledge_dir=corpus)
    done = invoke(container, "ingest", str(corpus))
    assert done.exit_code == 0, done.output
    # Where it wrote, and which named sources it read.
    assert done.stderr == f"advisor: {container.settings.storage_line()}\nsources: knowledge ({corpus})\n"
    summary = SUMMARY.fullmatch(done.stdout.strip())
    assert summary is not None, done.stdout
    added, updated, unchanged, removed, skipped, chunks, embedded = map(int, summary.groups())
    assert (added, updated, unchanged, removed, skipped) == (len(SMALL_CORPUS), 0, 0, 0, 0)
    assert chunks == embedded > 0

    # The new index answers at once (search reads what ingest activated).
    found = json.loads(invoke(container, "search", "annotator agreement", "--json", "--k", "1").stdout)
    assert [r["doc_id"] for r in found["results"]] == ["labelling-guidelines"]

    # Without paths it ingests the knowledge folder: nothing changed, nothing embedded.
    again = invoke(container, "ingest")
    assert again.exit_code == 0, again.output
    summary = SUMMARY.fullmatch(again.stdout.strip())
    assert summary is not None, again.stdout
    assert summary.group(1, 2, 3, 5, 7) == ("0", "0", str(len(SMALL_CORPUS)), "0", "0")
    # --force embeds every chunk again.
    forced = invoke(container, "ingest", "--force")
    assert forced.exit_code == 0, forced.output
    summary = SUMMARY.fullmatch(forced.stdout.strip())
    assert summary is not None, forced.stdout
    assert summary.group(6) == summary.group(7) == str(chunks)


def test_ingesting_another_folder_keeps_the_bundled_corpus_searchable(
    fast_container: FastContainer, invoke: Invoke, tmp_path: Path
) -> None:
    container = fast_container(fresh_vectors=True, data_dir=tmp_path / "data")
    assert invoke(container, "ingest").exit_code == 0
    other = write_small_corpus(tmp_path / "team-notes")
    done = invoke(container, "ingest", str(other))
    assert done.exit_code == 0, done.output
    assert f"sources: team-notes ({other})" in done.stderr
    assert f"{len(SMALL_CORPUS)} added" in done.stdout and "0 removed" in done.stdout
    assert "kept from other sources" in done.stdout

    def top_doc(query: str) -> str:
        found = json.loads(invoke(container, "search", query, "--json", "-k", "3").stdout)
        return str(found["results"][0]["doc_id"])

    assert top_doc("How do we roll back a canary release?") == "release-strategies"  # bundled, still there
    assert top_doc("annotator agreement") in {d.removesuffix(".md") for d in SMALL_CORPUS}

    listed = json.loads(invoke(container, "sources", "list", "--json").stdout)
    assert {row["name"]: row["documents"] for row in listed}["team-notes"] == len(SMALL_CORPUS)
    refused = invoke(container, "sources", "remove", "team-notes")  # no terminal, no --yes
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    removed = invoke(container, "sources", "remove", "team-notes", "--yes")
    assert removed.exit_code == 0, removed.output
    assert f"{len(SMALL_CORPUS)} documents will leave the index" in removed.stdout
    assert [row["name"] for row in json.loads(invoke(container, "sources", "list", "--json").stdout)] == [
        "knowledge"
    ]
    assert top_doc("How do we roll back a canary release?") == "release-strategies"


def test_ingest_names_a_malformed_file_and_exits_1(
    fast_container: FastContainer, invoke: Invoke, tmp_path: Path
) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    (corpus / "broken.md").write_text(
        "---\ntitle: Broken\ntopics: monitoring\n---\n\n# Broken\n\nSome text about monitoring.\n"
    )
    container = fast_container(fresh_vectors=True, data_dir=tmp_path / "data")
    done = invoke(container, "ingest", str(corpus))
    assert done.exit_code == 1, done.output
    where, sources, *problems = done.stderr.splitlines()
    assert sources.startswith("sources: corpus (")
    assert where == f"advisor: {container.settings.storage_line()}"  # which index it writes, first
    assert len(problems) == 1 and problems[0].startswith("skipped "), done.stderr
    assert "broken.md" in problems[0] and "topics" in problems[0]
    summary = SUMMARY.fullmatch(done.stdout.strip())
    assert summary is not None, done.stdout
    assert summary.group(1, 5) == (str(len(SMALL_CORPUS)), "1")  # the good documents are indexed anyway


def test_ingest_of_a_missing_path_fails_in_one_line(
    fast_container: FastContainer, invoke: Invoke, tmp_path: Path
) -> None:
    container = fast_container(fresh_vectors=True, data_dir=tmp_path / "data")
    missing = tmp_path / "nowhere"
    done = invoke(container, "ingest", str(missing))
    assert done.exit_code == 2
    assert done.stderr.splitlines() == [
        f"advisor: {container.settings.storage_line()}",
        f"advisor: {missing}: no such file or directory",
    ]
    assert done.stdout == ""


# -- corpus check ------------------------------------------------------------------------------------


def test_corpus_check_passes_on_the_bundled_corpus() -> None:
    done = CliRunner().invoke(cli_app, ["corpus", "check", str(KNOWLEDGE)])
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == [f"{len(markdown_files(KNOWLEDGE))} documents checked, 0 problems"]


def test_corpus_check_lists_problems_and_exits_1(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(KNOWLEDGE, corpus)
    text = (corpus / "release-strategies.md").read_text(encoding="utf-8")
    broken = corpus / "release-strategies-copy.md"
    broken.write_text(
        text.replace("id: release-strategies", "id: release-strategies-copy").replace(
            "\nsummary:", "\nsumary:"
        ),
        encoding="utf-8",
    )
    done = CliRunner().invoke(cli_app, ["corpus", "check", str(corpus)])
    assert done.exit_code == 1, done.output
    *problems, last = done.stdout.splitlines()
    documents = len(markdown_files(KNOWLEDGE)) + 1
    assert last == f"{documents} documents checked, {len(problems)} problem" + (
        "s" if len(problems) > 1 else ""
    )
    assert problems and all(p.startswith(f"{broken}:") for p in problems), problems
    assert any("summary" in p for p in problems), problems

    # The word limits are options.
    limits = ["--min-words", "0", "--max-words", "50"]
    short = CliRunner().invoke(cli_app, ["corpus", "check", str(corpus), *limits])
    assert short.exit_code == 1
    assert short.stdout.splitlines()[-1].startswith(f"{documents} documents checked, ")
    assert len(short.stdout.splitlines()) > documents  # every document is over the limit


def test_corpus_check_refuses_a_missing_path_and_inverted_limits(tmp_path: Path) -> None:
    missing = CliRunner().invoke(cli_app, ["corpus", "check", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert missing.stderr.strip() == f"error: {tmp_path / 'nowhere'}: no such file or directory"
    inverted = CliRunner().invoke(
        cli_app, ["corpus", "check", str(KNOWLEDGE), "--min-words", "900", "--max-words", "800"]
    )
    assert inverted.exit_code == 2
    assert inverted.stderr.strip() == "error: --min-words (900) is larger than --max-words (800)"


# -- keys --------------------------------------------------------------------------------------------


def test_keys_create_list_revoke_against_a_running_service(fast_server: FastServer, invoke: Invoke) -> None:
    with fast_server() as live, live.client() as http:
        container = live.container
        empty = invoke(container, "keys", "list")
        assert empty.exit_code == 0 and empty.stdout.strip() == (
            "no API keys; create one with: advisor keys create --scope chat"
        )

        created = invoke(
            container, "keys", "create", "--scope", "chat", "--scope", "search", "--name", "portal"
        )
        assert created.exit_code == 0, created.output
        key = created.stdout.strip()
        assert key.startswith("adv_") and "\n" not in key  # stdout is the key alone, for scripts
        assert re.fullmatch(
            r"created key_\w+ \(scopes: chat, search, name 'portal'\); "
            r"the key below is shown only this once:\n",
            created.stderr,
        ), created.stderr

        listed = invoke(container, "keys", "list", "--json")
        (record,) = json.loads(listed.stdout)
        assert record["name"] == "portal" and record["scopes"] == ["chat", "search"]
        assert record["active"] is True and record["revoked_at"] is None and record["prefix"] == key[:8]
        assert key not in listed.stdout
        table = invoke(container, "keys", "list").stdout
        assert table.startswith(f"{record['id']}  {key[:8]}...  chat,search ") and "active" in table
        assert table.rstrip().endswith("portal") and key not in table

        # The running service takes the key at once, and refuses it once revoked.
        bearer = {"Authorization": f"Bearer {key}"}
        assert http.post("/v1/search", json={"query": "canary"}, headers=bearer).status_code == 200
        assert http.post("/v1/search", json={"query": "canary"}).status_code == 401
        revoked = invoke(container, "keys", "revoke", record["id"])
        assert revoked.exit_code == 0, revoked.output
        assert revoked.stdout.strip() == f"revoked {record['id']}"
        assert "no active database key remains" in revoked.stderr
        refused = http.post("/v1/search", json={"query": "canary"}, headers=bearer)
        assert refused.status_code == 401 and "revoked" in refused.json()["reason"]

        again = invoke(container, "keys", "revoke", record["id"])
        assert again.exit_code == 0 and again.stdout.strip() == f"{record['id']} was already revoked"
        (final,) = json.loads(invoke(container, "keys", "list", "--json").stdout)
        assert final["active"] is False and final["revoked_at"]
        assert "revoked " in invoke(container, "keys", "list").stdout


def test_keys_create_json_and_bad_input(fast_container: FastContainer, invoke: Invoke) -> None:
    container = fast_container()
    created = invoke(container, "keys", "create", "--scope", "feedback", "--json")
    assert created.exit_code == 0, created.output
    issued = json.loads(created.stdout)
    assert issued["key"].startswith("adv_") and issued["scopes"] == ["feedback"] and issued["name"] is None
    assert issued["id"].startswith("key_") and issued["prefix"] == issued["key"][:8]
    assert container.api_keys.resolve(issued["key"], None) is not None

    unknown_scope = invoke(container, "keys", "create", "--scope", "chat", "--scope", "root")
    assert unknown_scope.exit_code == 2 and unknown_scope.stdout == ""
    assert "unknown scope 'root'" in unknown_scope.stderr and "feedback" in unknown_scope.stderr
    no_scope = invoke(container, "keys", "create")
    assert no_scope.exit_code == 2 and "--scope" in no_scope.stderr
    missing = invoke(container, "keys", "revoke", "key_000000000000")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == (
        "advisor: no API key with id 'key_000000000000' (see `advisor keys list`)"
    )
    assert [r.id for r in container.api_keys.list()] == [issued["id"]]
    for args in (("--help",), ("create", "--help"), ("list", "--help"), ("revoke", "--help")):
        assert invoke(container, "keys", *args).exit_code == 0, args


# -- widget create-key -------------------------------------------------------------------------------


def test_widget_create_key_prints_a_settings_entry_that_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    done = CliRunner().invoke(
        cli_app,
        [
            "widget",
            "create-key",
            "--origin",
            "https://Intranet.Example:443/",
            "--origin",
            "http://localhost:3000",
            "--name",
            "intranet",
            "--url",
            "https://advisor.example/",
        ],
    )
    assert done.exit_code == 0, done.output
    out = done.stdout
    key = re.search(r"^  (wk_\S+)$", out, re.MULTILINE)
    assert key is not None, out
    origins = ["https://intranet.example", "http://localhost:3000"]
    assert out.startswith(f"Widget key 'intranet' for {', '.join(origins)}:")

    # The environment variable's value, as printed, configures the service.
    env = re.search(r"^  ADVISOR_WIDGET__KEYS='(.+)'$", out, re.MULTILINE)
    assert env is not None, out
    item = {"name": "intranet", "key": key.group(1), "origins": origins}
    assert json.loads(env.group(1)) == [item]
    monkeypatch.setenv("ADVISOR_WIDGET__KEYS", env.group(1))
    keyring = WidgetKeyring(load_settings().widget)
    principal = keyring.resolve(key.group(1), "https://intranet.example")
    assert principal is not None and principal.kind == "widget"

    # So does the TOML snippet.
    toml = out.split("or in the settings file (TOML):\n\n", 1)[1].split("\n\n", 1)[0]
    assert tomllib.loads("\n".join(line.removeprefix("  ") for line in toml.splitlines())) == {
        "widget": {"keys": [item]}
    }
    tag = (
        '  <script src="https://advisor.example/widget.js" data-advisor-url="https://advisor.example" '
        f'data-widget-key="{key.group(1)}" defer></script>'
    )
    assert out.rstrip("\n").endswith(tag)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--origin", "https://intranet.example/chat"], "advisor: --origin 'https://intranet.example/chat'"),
        (["--origin", "*"], "advisor: --origin '*' is not an origin: use scheme://host[:port]"),
        (["--origin", "https://a.example", "--name", "no spaces"], "advisor: --name 'no spaces' is not a"),
    ],
)
def test_widget_create_key_refuses_what_is_not_an_origin_or_a_name(args: list[str], message: str) -> None:
    done = CliRunner().invoke(cli_app, ["widget", "create-key", *args])
    assert done.exit_code == 2 and done.stdout == ""
    assert done.stderr.startswith(message), done.stderr


def test_a_bad_widget_key_name_is_refused_in_one_line() -> None:
    done = CliRunner().invoke(
        cli_app, ["widget", "create-key", "--origin", "https://a.example", "--name", "a b"]
    )
    assert done.exit_code == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
