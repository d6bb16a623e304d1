"""The usual recipe a team would otherwise pick: LangChain's RecursiveCharacterTextSplitter and
Chroma.from_documents, with the same sentence-transformers model behind a LangChain Embeddings."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_chroma import Chroma
    from sentence_transformers import SentenceTransformer


def _embeddings(model: SentenceTransformer) -> Any:
    from langchain_core.embeddings import Embeddings

    class SentenceTransformerEmbeddings(Embeddings):
        """What langchain-huggingface's HuggingFaceEmbeddings does, over an already loaded model."""

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            vectors = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
            return [v.tolist() for v in vectors]

        def embed_query(self, text: str) -> list[float]:
            return self.embed_documents([text])[0]

    return SentenceTransformerEmbeddings()


@dataclass
class RecipeIndex:
    store: Chroma
    chunks: int
    seconds: float


def build_recipe_index(corpus: Path, model: SentenceTransformer, persist_dir: Path) -> RecipeIndex:
    """Load, split, embed and store the corpus the LangChain way; timed end to end."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    started = time.perf_counter()
    docs = [
        Document(page_content=path.read_text(encoding="utf-8"), metadata={"source": path.name})
        for path in sorted(corpus.glob("*.md"))
    ]
    # LangChain's documented starting point for prose.
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = splitter.split_documents(docs)
    store = Chroma.from_documents(
        chunks, embedding=_embeddings(model), persist_directory=str(persist_dir), collection_name="recipe"
    )
    return RecipeIndex(store, len(chunks), time.perf_counter() - started)
