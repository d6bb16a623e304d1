"""Build the langchain chat model named by the ``llm`` settings.

Provider packages are imported lazily so a deployment only needs the extra it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr

from advisor.settings import LLMSettings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

# Sent instead of a real key when a local compatible server needs none. Passing it explicitly also
# stops the client from picking up OPENAI_API_KEY / ANTHROPIC_API_KEY from the environment and
# sending that key to a server we did not intend it for.
_NO_KEY = SecretStr("not-needed")


class ProviderConfigError(Exception):
    """The configured LLM provider cannot be used (e.g. its optional package is missing)."""


def _missing_package(provider: str, package: str, extra: str | None, exc: ImportError) -> ProviderConfigError:
    hint = f"pip install 'advisor[{extra}]'" if extra else "pip install advisor"
    return ProviderConfigError(
        f"llm.provider {provider!r} needs the Python package {package!r}, which is not installed "
        f"({exc.name or package}); install it with: {hint}"
    )


def build_chat_model(llm: LLMSettings) -> BaseChatModel:
    """Return a chat model for ``llm.provider`` with the configured timeout, retries and limits.

    ``timeout_seconds`` bounds each network wait (connect and each read); ``max_retries`` is the
    client's own retry count (with backoff) for timeouts, connection errors, 429 and 5xx.
    Raises ``ValueError`` for the ``extractive`` provider (it uses no model) and
    :class:`ProviderConfigError` when the provider's package is not installed.
    """
    if llm.provider == "extractive":
        raise ValueError("llm.provider 'extractive' does not use a chat model")
    if not llm.model:
        raise ProviderConfigError(f"llm.model is required for llm.provider {llm.provider!r}")
    api_key = llm.api_key if llm.api_key is not None else _NO_KEY

    if llm.provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise _missing_package("openai", "langchain-openai", None, exc) from exc
        return ChatOpenAI(
            model=llm.model,
            api_key=api_key,
            base_url=llm.base_url or None,
            temperature=llm.temperature,
            max_completion_tokens=llm.max_tokens,
            timeout=llm.timeout_seconds,
            max_retries=llm.max_retries,
        )

    if llm.provider == "anthropic":
        try:
            from langchain_anthropic import ChatAnthropic
        except ImportError as exc:
            raise _missing_package("anthropic", "langchain-anthropic", "anthropic", exc) from exc
        model: BaseChatModel = ChatAnthropic(
            model=llm.model,
            api_key=api_key,
            base_url=llm.base_url or None,
            temperature=llm.temperature,
            max_tokens=llm.max_tokens,
            timeout=llm.timeout_seconds,
            max_retries=llm.max_retries,
        )
        return model

    if llm.provider == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError as exc:
            raise _missing_package("ollama", "langchain-ollama", "ollama", exc) from exc
        # The ollama client has no retry setting; the timeout goes to its httpx client.
        ollama: BaseChatModel = ChatOllama(
            model=llm.model,
            base_url=llm.base_url or None,
            temperature=llm.temperature,
            num_predict=llm.max_tokens,
            client_kwargs={"timeout": llm.timeout_seconds},
        )
        return ollama

    raise ProviderConfigError(f"unknown llm.provider {llm.provider!r}")  # pragma: no cover
