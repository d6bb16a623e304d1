"""The physical limit of query handling: load the model, then embed queries one at a time.

Run by benchmarks.processes.BareEmbedWorker on the server's core: prints a line once the model is
loaded, then for each query line read from stdin embeds it alone and prints the seconds it took,
so the harness can interleave it with requests to the server.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(sys.argv[1], device="cpu")
    model.encode(["warm-up"], normalize_embeddings=True)
    import torch

    print(json.dumps({"torch_threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        query = json.loads(line)
        if isinstance(query, list):  # a whole batch of queries, one at a time, timed as a loop
            latencies = []
            started = time.perf_counter()
            for text in query:
                t = time.perf_counter()
                model.encode([text], normalize_embeddings=True, convert_to_numpy=True)
                latencies.append(time.perf_counter() - t)
            seconds = time.perf_counter() - started
            print(json.dumps({"latencies": latencies, "seconds": seconds}), flush=True)
            continue
        started = time.perf_counter()
        model.encode([query], normalize_embeddings=True, convert_to_numpy=True)
        print(json.dumps(time.perf_counter() - started), flush=True)


if __name__ == "__main__":
    main()
