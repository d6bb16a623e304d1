"""How the knowledge-gap report groups questions, with the real model (slow tier): paraphrases of
one need land together and unrelated needs apart, measured by the adjusted Rand index against nine
hand-made groups of the kind of questions Advisor cannot answer well."""

from __future__ import annotations

from sklearn.metrics import adjusted_rand_score

from advisor.chat.gaps import _cluster, _unit
from advisor.container import Container

GROUPS = [
    [
        "How do I claim travel expenses for a client visit?",
        "What is the mileage rate for expense claims?",
        "Who approves my expense claim for a train ticket?",
        "can I expense a taxi to the airport",
    ],
    [
        "Which GPU instance type should we rent for fine-tuning a 70B model?",
        "How much VRAM do we need to fine-tune Llama 70B?",
        "what hardware do we need to train our own LLM",
        "A100 or H100 for fine tuning?",
    ],
    [
        "Where can visitors park at the Leeds office?",
        "Is the Leeds car park free for visitors?",
        "parking for guests at head office?",
    ],
    [
        "Can we use ChatGPT to write our quarterly board report?",
        "Is it ok to paste customer emails into ChatGPT?",
        "are staff allowed to use copilot with client data",
    ],
    [
        "What is the holiday allowance for new starters?",
        "How many days of annual leave do I get?",
        "how do i book time off",
    ],
    [
        "how do we get the EU AI Act conformity assessment done for our credit model",
        "does the AI act classify our CV screening tool as high risk",
        "what documentation does the AI act require for high-risk systems",
    ],
    [
        "how do we price our AI product for customers",
        "should we charge per seat or per API call for our AI feature",
        "what margin should an AI SaaS product have",
    ],
    ["how do I reset my VPN password", "the VPN keeps disconnecting on my laptop"],
    [
        "our forecast model needs weather data, where can we buy it",
        "which vendors sell footfall data for retail stores",
    ],
]


def test_paraphrased_needs_share_a_cluster_and_different_needs_do_not(
    extractive_container: Container,
) -> None:
    questions = [q for group in GROUPS for q in group]
    truth = [n for n, group in enumerate(GROUPS) for _ in group]
    vectors = _unit(extractive_container.embedder.embed_documents(questions))
    found = _cluster(vectors)
    score = adjusted_rand_score(truth, found)
    print(
        f"\ngap clusters: adjusted Rand index {score:.3f}, {len(set(found))} clusters for {len(GROUPS)} needs"
    )
    assert score >= 0.7
