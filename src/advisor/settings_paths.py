"""Where Advisor's files live when the settings do not say: never the current directory. Beside the
settings file, else the source checkout, else the user's data directory; and relative paths in a
settings file are relative to that file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

__all__ = ["RelativeToFile", "default_data_dir", "default_knowledge_dir", "source_checkout", "user_data_dir"]


def source_checkout() -> Path | None:
    """The project folder when Advisor runs from its source tree (an editable install or the
    Docker image's layout does not count): where the bundled corpus, prompts and evals live."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "knowledge").is_dir() else None


def user_data_dir() -> Path:
    """Where an installed Advisor keeps its data when nothing says otherwise: $XDG_DATA_HOME/advisor."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "advisor"


def default_data_dir() -> Path:
    """Never the current directory: beside the settings file, else the source checkout's data/, else
    the user data dir. So `cd /tmp && advisor search` reads the same index as everywhere else."""
    file = os.environ.get("ADVISOR_SETTINGS_FILE")
    if file:
        return Path(file).absolute().parent / "data"
    root = source_checkout()
    return root / "data" if root is not None else user_data_dir()


def default_knowledge_dir() -> Path:
    root = source_checkout()
    return root / "knowledge" if root is not None else user_data_dir() / "knowledge"


# Settings holding paths: relative ones in a settings file are relative to that file.
_PATH_SETTINGS = (("data_dir",), ("knowledge_dir",), ("prompts_dir",), ("rules_dir",), ("chroma", "path"))


class RelativeToFile(PydanticBaseSettingsSource):
    """A settings file's values, with its relative paths taken from the file's folder, not the
    current directory."""

    def __init__(
        self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource, folder: Path
    ) -> None:
        super().__init__(settings_cls)
        self._inner = inner
        self._folder = folder

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ gives the whole mapping

    def __call__(self) -> dict[str, Any]:
        values = self._inner()
        for path in _PATH_SETTINGS:
            holder: Any = values
            for key in path[:-1]:
                holder = holder.get(key) if isinstance(holder, dict) else None
            if isinstance(holder, dict) and isinstance(holder.get(path[-1]), str):
                value = Path(holder[path[-1]]).expanduser()
                holder[path[-1]] = str(value if value.is_absolute() else self._folder / value)
        return values
