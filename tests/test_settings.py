"""Settings: env vars, a TOML or YAML file (env wins), one-line errors, refusals; `advisor serve`'s
refusal to listen publicly without keys."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.settings import SettingsError, load_settings

REAL_KEY = "a-real-api-key-0123456789"


def _error(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message, message
    return message


def test_env_vars_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("ADVISOR_LLM__PROVIDER", "openai")
    monkeypatch.setenv("ADVISOR_LLM__MODEL", "gpt-4o-mini")
    monkeypatch.setenv("ADVISOR_LLM__API_KEY", "sk-test-0123456789abcdef")
    monkeypatch.setenv("ADVISOR_LLM__TEMPERATURE", "0.5")
    monkeypatch.setenv("ADVISOR_API__KEYS", f'["{REAL_KEY}"]')
    monkeypatch.setenv("ADVISOR_LIMITS__MAX_K", "7")
    monkeypatch.setenv("ADVISOR_RETRIEVAL__MMR_LAMBDA", "0.9")

    settings = load_settings()
    assert settings.data_dir == tmp_path / "d"
    assert (settings.llm.provider, settings.llm.model, settings.llm.temperature) == (
        "openai",
        "gpt-4o-mini",
        0.5,
    )
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-test-0123456789abcdef"
    assert [k.get_secret_value() for k in settings.api.keys] == [REAL_KEY]
    assert settings.auth_enabled
    assert settings.limits.max_k == 7
    assert settings.retrieval.mmr_lambda == 0.9
    # Secrets never show in a repr (logs, tracebacks).
    assert REAL_KEY not in repr(settings) and "sk-test" not in repr(settings)


def test_defaults_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.llm.provider == "extractive"
    assert not settings.auth_enabled
    assert settings.api.host == "127.0.0.1"


_FILES = {
    "toml": """
log_level = "DEBUG"

[llm]
provider = "ollama"
model = "llama3.1"
base_url = "http://127.0.0.1:11434"

[limits]
max_k = 9
max_message_chars = 500
""",
    "yaml": """
log_level: DEBUG
llm:
  provider: ollama
  model: llama3.1
  base_url: http://127.0.0.1:11434
limits:
  max_k: 9
  max_message_chars: 500
""",
}


@pytest.mark.parametrize("kind", ["toml", "yaml"])
def test_settings_file_is_read_and_env_wins(
    kind: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / f"advisor.{kind}"
    path.write_text(_FILES[kind])
    monkeypatch.setenv("ADVISOR_SETTINGS_FILE", str(path))

    from_file = load_settings()
    assert from_file.log_level == "DEBUG"
    assert (from_file.llm.provider, from_file.llm.model) == ("ollama", "llama3.1")
    assert (from_file.limits.max_k, from_file.limits.max_message_chars) == (9, 500)

    monkeypatch.setenv("ADVISOR_LIMITS__MAX_K", "3")
    monkeypatch.setenv("ADVISOR_LLM__MODEL", "qwen2.5")
    both = load_settings()
    assert both.limits.max_k == 3 and both.llm.model == "qwen2.5"  # env wins...
    assert both.limits.max_message_chars == 500 and both.llm.provider == "ollama"  # ...setting by setting


def test_yml_suffix_is_yaml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "advisor.yml"
    path.write_text(_FILES["yaml"])
    monkeypatch.setenv("ADVISOR_SETTINGS_FILE", str(path))
    assert load_settings().limits.max_k == 9


@pytest.mark.parametrize(
    ("env", "value", "setting"),
    [
        ("ADVISOR_LIMITS__MAX_K", "lots", "limits.max_k"),
        ("ADVISOR_LIMITS__MAX_BODY_BYTES", "10", "limits.max_body_bytes"),
        ("ADVISOR_RETRIEVAL__MMR_LAMBDA", "2", "retrieval.mmr_lambda"),
        ("ADVISOR_API__PORT", "70000", "api.port"),
        ("ADVISOR_LOG_LEVEL", "LOUD", "log_level"),
        ("ADVISOR_LLM__PROVIDER", "gpt", "llm.provider"),
        ("ADVISOR_CHROMA__MODE", "cloud", "chroma.mode"),
        ("ADVISOR_LIMITS__MAX_KK", "3", "limits.max_kk"),  # a typo is refused, not ignored
    ],
)
def test_invalid_value_is_one_line_naming_setting_and_env_var(
    env: str, value: str, setting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _error(monkeypatch, **{env: value})
    assert setting in message and env in message, message
    assert message.startswith("invalid settings:")


def test_list_env_var_that_is_not_json_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, ADVISOR_API__KEYS=REAL_KEY)
    assert "ADVISOR_API__KEYS" in message and "JSON" in message
    assert REAL_KEY not in message  # the would-be secret is not echoed


@pytest.mark.parametrize(
    ("suffix", "content"),
    [
        (".toml", "[limits\nmax_k = 3\n"),
        (".toml", "[limits]\nmax_k = 'many'\n"),
        (".toml", "[limits]\nmax_kk = 3\n"),
        (".yaml", "limits: [1,\n"),
        (".yaml", "- just\n- a list\n"),
    ],
)
def test_bad_settings_file_is_one_line(
    suffix: str, content: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / f"advisor{suffix}"
    path.write_text(content)
    message = _error(monkeypatch, ADVISOR_SETTINGS_FILE=str(path))
    assert "limits.max_k" in message or ("ADVISOR_SETTINGS_FILE" in message and str(path) in message), message


def test_missing_settings_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    message = _error(monkeypatch, ADVISOR_SETTINGS_FILE=str(tmp_path / "nope.toml"))
    assert "ADVISOR_SETTINGS_FILE" in message and "nope.toml" in message


@pytest.mark.parametrize("placeholder", ["changeme", "CHANGEME", "password", "secret", "your-key"])
def test_placeholder_api_key_is_refused(placeholder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, ADVISOR_API__KEYS=f'["{REAL_KEY}", "{placeholder}"]')
    assert "api.keys" in message and "ADVISOR_API__KEYS" in message and "placeholder" in message


def test_placeholder_llm_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(
        monkeypatch,
        ADVISOR_LLM__PROVIDER="openai",
        ADVISOR_LLM__MODEL="gpt-4o-mini",
        ADVISOR_LLM__API_KEY="changeme",
    )
    assert "llm.api_key" in message and "ADVISOR_LLM__API_KEY" in message and "placeholder" in message


def test_short_api_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, ADVISOR_API__KEYS='["short-key"]')
    assert "api.keys" in message and "ADVISOR_API__KEYS" in message and "16" in message
    assert "short-key" not in message


def test_openai_without_model_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(
        monkeypatch, ADVISOR_LLM__PROVIDER="openai", ADVISOR_LLM__API_KEY="sk-test-0123456789abcdef"
    )
    assert "llm.model" in message and "ADVISOR_LLM__MODEL" in message


def test_openai_without_key_or_base_url_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _error(monkeypatch, ADVISOR_LLM__PROVIDER="openai", ADVISOR_LLM__MODEL="gpt-4o-mini")
    assert "ADVISOR_LLM__API_KEY" in message
    # A local compatible server needs no key.
    monkeypatch.setenv("ADVISOR_LLM__BASE_URL", "http://127.0.0.1:8080/v1")
    assert load_settings().llm.base_url == "http://127.0.0.1:8080/v1"


def _advisor(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed `advisor` command, in a child process with only the given ADVISOR_ settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    clean.update({"ADVISOR_DATA_DIR": str(tmp_path / "data"), **env})
    command = Path(sys.executable).with_name("advisor")
    return subprocess.run(
        [str(command), *args], env=clean, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


@pytest.mark.slow  # runs the CLI as a process
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_serve_refuses_a_public_host_without_keys(host: str, tmp_path: Path) -> None:
    done = _advisor("serve", "--host", host, tmp_path=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"refusing to bind {host} without API keys" in lines[0]
    assert "ADVISOR_API__KEYS" in lines[0]
    assert "Traceback" not in done.stderr


@pytest.mark.slow  # runs the CLI as a process
def test_serve_with_invalid_settings_fails_with_one_line(tmp_path: Path) -> None:
    done = _advisor("serve", tmp_path=tmp_path, ADVISOR_API__KEYS='["changeme"]')
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ADVISOR_API__KEYS" in lines[0], done.stderr


@pytest.mark.slow  # runs the CLI as a process
def test_serve_with_missing_prompt_templates_fails_before_binding(tmp_path: Path) -> None:
    empty = tmp_path / "no-prompts"
    empty.mkdir()
    done = _advisor(
        "serve",
        "--port",
        "1",  # never bound: the check runs before the server starts
        tmp_path=tmp_path,
        ADVISOR_LLM__PROVIDER="openai",
        ADVISOR_LLM__MODEL="some-model",
        ADVISOR_LLM__BASE_URL="http://127.0.0.1:9/v1",
        ADVISOR_PROMPTS_DIR=str(empty),
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "llm:" in done.stderr and "Traceback" not in done.stderr
    assert "system.j2" in done.stderr or "prompts" in done.stderr


# -- where data lives never depends on the current directory (issue 16, item 10) --------------------

REPO = Path(__file__).resolve().parents[1]


def test_the_default_data_dir_is_the_checkouts_wherever_the_command_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Before, `cd /tmp && advisor search canary` created /tmp/data/advisor.db and found no index.
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.data_dir == REPO / "data" and settings.knowledge_dir == REPO / "knowledge"
    assert settings.database_url == f"sqlite:///{REPO / 'data' / 'advisor.db'}"


def test_an_installed_advisor_keeps_its_data_in_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import advisor.settings_paths

    monkeypatch.setattr(advisor.settings_paths, "source_checkout", lambda: None)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.chdir(tmp_path)
    assert load_settings().data_dir == tmp_path / "share" / "advisor"


def test_paths_in_a_settings_file_are_relative_to_the_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "deploy"
    folder.mkdir()
    settings_file = folder / "advisor.toml"
    settings_file.write_text('knowledge_dir = "corpus"\n[chroma]\npath = "vectors"\n')
    monkeypatch.setenv("ADVISOR_SETTINGS_FILE", str(settings_file))
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.data_dir == folder / "data"  # not set: beside the file
    assert settings.knowledge_dir == folder / "corpus" and settings.chroma_path == folder / "vectors"
    # A relative path from the environment is the shell's, as usual, and made absolute once.
    monkeypatch.setenv("ADVISOR_DATA_DIR", "elsewhere")
    assert load_settings().data_dir == tmp_path / "elsewhere"


def test_the_storage_line_names_index_and_database_without_the_password(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ADVISOR_CHROMA__MODE", "http")
    monkeypatch.setenv("ADVISOR_DATABASE__URL", "postgresql+psycopg://advisor:s3cret-pw@db:5432/advisor")
    line = load_settings().storage_line()
    assert line == (
        f"data: {tmp_path}; index: Chroma server 127.0.0.1:8001; "
        "database: postgresql+psycopg://advisor:***@db:5432/advisor"
    )


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # docker-compose.yml passes optional settings as ${VAR:-}: an empty token must not turn Slack on
    # (or be refused as a placeholder).
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("ADVISOR_SLACK__BOT_TOKEN", "")
    monkeypatch.setenv("ADVISOR_SLACK__SIGNING_SECRET", "")
    settings = load_settings()
    assert settings.slack.bot_token is None and not settings.slack.http_enabled
