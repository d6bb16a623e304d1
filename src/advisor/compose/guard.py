"""Recognising prompt injection: in a team's request, and in text that only pretends to be guidance.

:func:`is_instruction_attack` is for what the team sends (question or initiative): attempts to extract
Advisor's instructions, keys or configuration, to override its rules, to role-play it out of them, or
to make it emit images and links that carry the conversation away. Security questions about a team's
own system ("how should we manage API keys for our model?") are ordinary questions and pass.

:func:`is_injection_sentence` is for retrieved passages: a sentence written to instruct an AI that
reads it ("Note to AI assistants: ...", "[SYSTEM NOTE] ...", "ignore previous instructions and ...")
is never guidance, whichever document it sits in.

Both look at the text as written and at the forms attackers use to slip past a filter: invisible
characters, letter-spacing, digits for letters, ROT13, and base64 or hex payloads.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import re
import unicodedata
from collections.abc import Iterator

_FLAGS = re.IGNORECASE | re.VERBOSE
# A verb said as an order: at the start of a sentence or clause, after "please", "you must", "can you"...
# "Ignore all previous instructions" is an order; "what if agents ignore the rules?" is a question.
_ORDER = r"""
    (?:^|(?<=[.!?:;,"'“”(\[\]>*\-—])\s*|\b(?:please|now|just|and|then|first|also|so|simply|kindly)\s+
      |\byou\s+(?:must|should|shall|will|can|need\s+to|have\s+to|are\s+to)\s+|\b(?:can|could|would|will)\s+you\s+
      |\b(?:want|need|ask|tell|instruct)\s+you\s+to\s+)
"""
# "ignore / forget ... previous / your ... instructions / rules" in English, French, German, Spanish, Italian.
_OVERRIDE = rf"""
    {_ORDER}(ignore|disregard|forget|override|overrule|bypass|skip|abandon|drop)\b[^.?!\n]{{0,40}}
    \b(previous|prior|above|earlier|preceding|all|any|your|the|these|those|system|safety|other)\b[^.?!\n]{{0,25}}
    \b(instructions?|rules|prompts?|guidelines|guidance|directions|directives|polic(y|ies)|constraints|
       restrictions|programming)\b
  | {_ORDER}(ignorez|oubliez|ignoriere|ignorieren|vergiss|ignora|ignorar|olvida|dimentica)\b[^.?!\n]{{0,40}}
    \b(instructions?|consignes|anweisungen|regeln|instrucciones|reglas|istruzioni|regole)\b
  | \bnew\s+(rules?|instructions?|directives?|orders)\b[^.?!\n]{{0,30}}\b(from|by)\s+(your|the)\s+
    (admin(istrator)?|developers?|operators?|owners?|creators?|system)\b
  | \b(safety|content|security)\s+(rules|filters?|guidelines|restrictions)\s+(are|have\s+been|is)\s+
    (now\s+)?(disabled|off|removed|lifted|suspended)\b
  | <\|?\s*(im_start|im_end|system|endoftext)\s*\|?> | \[/?INST\] | <<\s*/?SYS\s*>>
"""
# "SYSTEM: ...", "[SYSTEM NOTE] ...", "### Developer instruction" at the start of a line.
_ROLE_MARKER = r"""
    (^|\n)\s*[\[<(#*]*\s*(system|developer|administrator|admin)(\s+(note|message|prompt|instructions?|override|update))?
    \s*[\]>):]
"""
_ROLE_PLAY = r"""
    \b(developer|dan|jailbreak|god|maintenance|debug|sudo|unrestricted)\s+mode\b
  | \bdo\s+anything\s+now\b | \byou\s+are\s+(now\s+)?dan\b
  | \byou\s+are\s+now\b[^.?!\n]{0,40}\b(unrestricted|unfiltered|no\s+longer|free\s+of|without)\b
  | \b(pretend|act\s+as|role-?play|play\s+a\s+game|stay\s+in\s+character|from\s+now\s+on|imagine\s+you\s+are)\b
    [^\n]{0,80}\b(no|without|free\s+of|broken\s+free\s+of)\s+(any\s+|the\s+usual\s+)?
    (restrictions|rules|limits|limitations|filters|guidelines|policies|constraints)\b
  | \b(unrestricted|unfiltered|uncensored|jailbroken)\s+(ai|assistant|model|mode|version)\b
"""
_SECRETS = r"""(api[\s_-]?keys?|secrets?|tokens?|passwords?|credentials|environment(\s+variables)?|env\s+vars?
    |connection\s+strings?)"""
_LEAK_VERBS = r"(reveal|print|repeat|output|dump|leak|disclose|recite|quote)"
_EXTRACTION = rf"""
    {_ORDER}{_LEAK_VERBS}\b[^.?!\n]{{0,30}}\b(your|its|the\s+system|the\s+hidden|the\s+initial|internal|advisor'?s)\b
    [^.?!\n]{{0,20}}\b(system\s+(prompt|message)|prompt|instructions?|configuration|config|settings|{_SECRETS})\b
  | \b(instructions?|prompt|rules|text|message)\s+(you\s+(were|have\s+been)\s+given|you\s+received|given\s+to\s+you)\b
  | \b(first|last|opening)\s+(line|sentence|words?|paragraph)\s+of\s+your\b
  | {_ORDER}(repeat|print|output|echo|copy|reproduce|show|display|recite)\b[^.?!\n]{{0,30}}
    \b(everything|all|the\s+(full\s+)?(text|words|content|lines?|messages?))\b[^.?!\n]{{0,30}}
    \b(above|before|preceding|so\s+far)\b
  | \b(everything|all\s+(the\s+)?text)\s+(above|before)\s+(this|that)\b
  | \bdecode\b[^.?!\n]{{0,40}}\b(follow|obey|execute|run|do\s+what|carry\s+out)\b
"""
# Only in a request: said to Advisor, these ask for its own prompt, keys or settings.
_EXTRACTION_FROM_US = rf"""
    \b(show|tell\s+me|give\s+me|share|list|translate|summari[sz]e|paste|spell\s+out|write\s+(out|down)|
       what\s+(is|are|were))\b[^.?!\n]{{0,30}}
    \b(your|the\s+system|the\s+hidden|the\s+initial|advisor'?s)\b[^.?!\n]{{0,20}}
    \b(system\s+(prompt|message)|prompt|instructions?|configuration|config|settings|{_SECRETS})\b
  | \bsystem\s+prompt\b
  | \byour\s+({_SECRETS}|environment)\b
  | \b(api[\s_-]?key|token|password|credentials?|secret)s?\b[^.?!\n]{{0,20}}\b(do|does|did)\s+you\s+(use|have|hold|store)\b
  | \b(settings?|configuration|config|keys?|prompt)\s+(that\s+)?(advisor|this\s+(bot|assistant|service|tool))\s+
    (runs|uses|was\s+given|has)\b
"""
# Asking for an image or a link to another site to be put into the reply: the classic way to carry the
# conversation off in a URL. An embedded image is never part of an honest question.
_EMBEDDED_IMAGE = re.compile(r"!\[[^\]\n]*\]\(\s*<?\s*(https?:)?//|<\s*img\b", re.IGNORECASE)
_PUT_A_LINK = re.compile(
    r"\b(include|add|append|insert|put|place|end|finish|render|embed|show|display|output)\b[^.?!\n]{0,60}"
    r"\b(link|url|address|image|picture|pixel|badge|html|markdown)\b",
    re.IGNORECASE,
)
_IN_THE_REPLY = re.compile(r"\b(your|the|each|every)\s+(answer|reply|response|output)s?\b", re.IGNORECASE)
_ANY_URL = re.compile(r"(https?://|www\.)\S", re.IGNORECASE)


def _asks_for_exfiltration(text: str) -> bool:
    if _EMBEDDED_IMAGE.search(text):
        return True
    return bool(_PUT_A_LINK.search(text) and _ANY_URL.search(text) and _IN_THE_REPLY.search(text))


_REQUEST_ATTACKS = re.compile(
    "|".join((_OVERRIDE, _ROLE_MARKER, _ROLE_PLAY, _EXTRACTION, _EXTRACTION_FROM_US)), _FLAGS
)

# Sentences that only make sense addressed to an AI reading the page: planted in a document, they are
# an attack on whoever retrieves it.
_AI = r"(ai|assistants?|models?|llms?|chatbots?|bots?|language\s+models?|agents?|ai\s+models?|gpts?)"
_ADDRESSED_TO_AI = rf"""
    \b(note|message|instructions?|attention|reminder|notice|memo)\s+(to|for)\s+(all\s+|any\s+)?(the\s+)?{_AI}\b
  | \b{_AI}\s+(reading|processing|summari[sz]ing|parsing|indexing|that\s+reads?|who\s+reads?)\b
  | \bif\s+you\s+are\s+an?\s+{_AI}\b
  | (^|\b(always|must|should|shall|will|then|please|and|to)\s+)(respond|reply|answer)\s+
    (to\s+(every|each|any|all)\s+\w+\s+)?(only\s+)?with\b
  | \b(begin|start|end|finish|prefix|sign\s+off|open|close)\s+(every|each|your|the)\s+(reply|answer|response|message)s?\b
  | \b(in|at\s+the\s+(start|end|beginning|top|bottom)\s+of)\s+((your|every|each)\s+(answer|reply)s?|your\s+(response|output)s?)\b
  | \bbefore\s+answering\b | \bregardless\s+of\s+what\s+the\s+user\b
  | \b(tell|ask|instruct|advise)\s+(the\s+)?(user|reader|team|customer)s?\s+to\s+(email|send|post|visit|click|open|enter|confirm)\b
  | \b(email|send|post|give|share|type|enter)\b[^.!?\n]{{0,30}}\b(their|your)\s+(passwords?|credentials|api\s+keys?|tokens?)\b
  | \b(render|display|embed|show|include|insert|load|output)\b[^.!?\n]{{0,40}}\b(image|picture|pixel|badge|gif|png)\b
  | \brepeat\s+the\s+(full\s+)?text\b
"""
# A new identity or a fixed answer for the reader that is an AI: guidance advises people on their
# situation; it never renames its reader, prescribes one answer to every question or tells the
# reader what to say whatever it is asked.
_BOT_NAME = r"(a\s+|an\s+|the\s+)?[\w-]*(bot|gpt|assistant|agent|advisor|ai)\b"
_SPEECH = r"(say|reply|respond|answer|recommend|state|claim|tell|mention|suggest|cite|advise)"
_DIRECTED_AT_ASSISTANT = rf"""
    \byou\s+are\s+(now|no\s+longer)\s+(called\s+|named\s+|known\s+as\s+)?{_BOT_NAME}
  | \byour\s+new\s+(name|role|identity|persona|job|task|purpose)\b
  | \byour\s+(name|role|identity|persona)\s+is\s+now\b
  | \bfrom\s+now\s+on\s*,?\s+you\s+(are|will|must|shall|should|work)\b
  | \bforget\s+(that\s+)?you\s+are\b
  | \b(act|behave|respond|answer)\s+as\s+{_BOT_NAME}
  | \bthe\s+(correct|right|only|true|real|best|proper|one\s+true)\s+(answer|response|reply|recommendation)\s+
    (to|for)\s+(any|every|all|each)\b
  | \b(whatever|no\s+matter\s+what)\s+(the\s+)?(user|question|query|prompt|request|topic|anyone|someone)\b
  | \bwhen(ever)?\s+asked\b[^.?!\n]{{0,60}}\b(always|only|never)\s+{_SPEECH}\b
  | \bwhen(ever)?\s+(someone|anyone|a\s+user|the\s+user|users)\s+asks?\b[^.?!\n]{{0,60}}\b{_SPEECH}\b
  | \bunder\s+no\s+circumstances\s+(should\s+you\s+|may\s+you\s+|must\s+you\s+)?
    (mention|recommend|suggest|say|reveal|cite|discuss|talk\s+about|bring\s+up)\b
  | \b(in|for)\s+(all|every|each|any)\s+(of\s+your\s+)?(answers?|replies)\b
  | \b(every|any|each)\s+(response|reply|answer)\s+you\s+(give|generate|write|produce|send)\b
  | \b((ai\s+)?assistants?|language\s+models?|llms?)\s+(must|should|shall|will|need\s+to|have\s+to|are\s+to)\s+
    (always|only|never)\s+{_SPEECH}\b
  | \b(mandatory|required|obligatory)\s+for\s+(the\s+|any\s+|every\s+|an\s+)?(ai\s+)?(assistant|model|bot|chatbot|llm)s?\s+to\b
  | \bnever\s+{_SPEECH}\b[^.?!\n]{{0,60}}\b(in\s+(your|any|the)\s+(answers?|replies|responses?)|to\s+(the\s+)?users?)\b
  | \b(answer|reply\s+to|respond\s+to)\s+(every|each|any|all)\s+(question|query|request|message|prompt)s?\s+(with|by)\b
  | \balways\s+(answer|reply|respond|say)\s*[:"“']
  | \b(quote|include|mention|cite|add|append|print|output|say)\s+(the\s+)?(code|codeword|code\s+word|phrase|passphrase|keyword|tag)\s+
    [\w-]*\d
"""
_PASSAGE_ATTACKS = re.compile(
    "|".join((_OVERRIDE, _ROLE_MARKER, _ROLE_PLAY, _EXTRACTION, _ADDRESSED_TO_AI, _DIRECTED_AT_ASSISTANT)),
    _FLAGS,
)
# For every alternative of _PASSAGE_ATTACKS, words it cannot match without (one required group of
# it: each word, or the start of each word, of that group), each starting a word as it does there.
# Text with none of them cannot match, and finding them is one quick scan, where the pattern tries
# every one of its alternatives at every position: most sentences, and nearly every ROT13 reading of
# one, are cleared without it. Keep in step with the patterns (tests/answer/test_guard_prefilter.py
# checks it against the attack dataset).
_ATTACK_WORD_STARTS = (
    # _OVERRIDE: the verbs, the foreign verbs, "new ... rules", "... filters are disabled"
    "ignor disregard forget override overrule bypass skip abandon drop oubliez vergiss olvida dimentica "
    # _ROLE_PLAY: "do anything now", "pretend ... no limits", "unrestricted AI"
    "anything rule instruction guideline filter restriction limit polic constraint unrestricted "
    "unfiltered uncensored jailbroken developer admin "
    # _EXTRACTION: leak and repeat verbs, "the prompt you were given / received", "decode"
    "reveal print repeat output dump leak disclose recite quote given received echo copy reproduce "
    "show display above decode "
    # _ADDRESSED_TO_AI: "message to ...", "... reading", "respond with", "begin every reply", "at the
    # end of your answer", "regardless of what the user", "tell users to", "their passwords", "image"
    "message attention reminder notice memo read processing summari parsing indexing respon reply "
    "answer regardless instruct advise password credentials token image picture pixel badge gif png "
    # _DIRECTED_AT_ASSISTANT: "... as ReleaseBot", "the correct recommendation for", "whatever the",
    # "no matter what", "when asked", "under no circumstances", "all replies", "assistants must always",
    # "mandatory for the model", "... to users", "always say:", "quote the code X-5"
    "recommend whatever matter ask circumstances repli assistant llm language mandatory required "
    "obligatory user say code phrase passphrase keyword tag"
)
# Whole words there (followed by a space or a non-letter): "new rules", "you are now", "... mode",
# "[SYSTEM]", "first line of your", "before answering", "ask users to", "API keys", "note to".
_ATTACK_WORDS = "new you your mode system before tell api note act behave"
_ATTACK_WORD = re.compile(
    rf"\b(?:{'|'.join(_ATTACK_WORD_STARTS.split())})|\b(?:{'|'.join(_ATTACK_WORDS.split())})\b"
    r"|<|\[/?inst\]",  # chat-template tokens, <<SYS>> and [INST]
    re.IGNORECASE,
)


def _passage_attack(text: str) -> bool:
    return bool(_ATTACK_WORD.search(text)) and bool(_PASSAGE_ATTACKS.search(text))


# Environment-variable names of secrets (OPENAI_API_KEY): a passage has no business naming them to a reader.
_SECRET_VARIABLE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_(?:API_KEY|KEY|TOKEN|SECRET|PASSWORD)\b")

# A match about the team's own system ("our chatbot's system prompt", "the system prompt of our
# assistant", "stop users making our assistant ignore its instructions"), or one quoted as an example
# in a question about defences, is a question about that system, unless the message also addresses
# Advisor directly or tells it to produce something.
_THEIR_OWN = re.compile(r"\b(our|its|their)\b", re.IGNORECASE)
_OF_THEIR_OWN = re.compile(r"\s+(of|for|in|inside|behind|used\s+by)\s+(our|its|their)\b", re.IGNORECASE)
_ADDRESSES_US = re.compile(r"\b(you|your|yours|yourself)\b", re.IGNORECASE)
_DIRECTIVE = re.compile(
    r"\b(translate|say|repeat|reply|respond|print|output|write|answer\s+with|append|include|render)\b", re.I
)
_WINDOW = 30

_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){10,}\b")
_SPACED_LETTERS = re.compile(r"\b(?:\w ){2,}\w\b")
_LEET = (str.maketrans("013457@$", "oieastas"), str.maketrans("013457@$", "oleastas"))
_MIXED_TOKEN = re.compile(r"\b(?=\w*[a-z])(?=\w*[0-9@$])[\w@$]+", re.IGNORECASE)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _drop_format_chars(match: re.Match[str]) -> str:
    return "".join(ch for ch in match.group(0) if unicodedata.category(ch) != "Cf")


def strip_invisible(text: str) -> str:
    """Drop format characters (zero-width spaces and joiners, bidi controls, Unicode tag characters):
    they render as nothing, so text hidden with them says something other than what a reviewer sees."""
    if text.isascii():
        return text  # no format character is ASCII; most guidance is, and this runs on every sentence
    return _NON_ASCII.sub(_drop_format_chars, text)


def _readable(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(ch.isprintable() for ch in text)
    return text if " " in text and printable >= 0.95 * len(text) else None


def decoded_payloads(text: str) -> Iterator[str]:
    """Readable text hidden in base64 or hex runs."""
    for match in _BASE64.finditer(text):
        token = match.group(0)
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        if (decoded := _readable(raw)) is not None:
            yield decoded
    for match in _HEX.finditer(text):
        if (decoded := _readable(bytes.fromhex(match.group(0)))) is not None:
            yield decoded


def _deleet(text: str, table: dict[int, int]) -> str:
    return _MIXED_TOKEN.sub(lambda m: m.group(0).translate(table), text)


def _disguises(text: str) -> Iterator[str]:
    """The text read the ways an attacker hides it: letter-spaced, digits for letters, ROT13, encoded."""
    yield _SPACED_LETTERS.sub(lambda m: m.group(0).replace(" ", ""), text)
    for table in _LEET:
        yield _deleet(text, table)
    yield codecs.encode(text, "rot13")
    yield from decoded_payloads(text)


def _normal(text: str) -> str:
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", strip_invisible(text))
    return " ".join(text.split())


def _about_their_own(message: str, match: re.Match[str]) -> bool:
    before = message[max(0, match.start() - _WINDOW) : match.end()]
    return bool(_THEIR_OWN.search(before) or _OF_THEIR_OWN.match(message, match.end()))


_OPENING_QUOTE = re.compile(r"(?<!\w)[\'\"“‘]")
_CLOSING_QUOTE = re.compile(r"[\'\"”’](?!\w)")


def _quoted(message: str, match: re.Match[str]) -> bool:
    """The match sits inside quotation marks: an example being asked about, not an instruction.
    Apostrophes inside words ("what's") are not quotation marks."""
    openings = [m.end() for m in _OPENING_QUOTE.finditer(message, 0, match.start())]
    if not openings:
        return False
    between = message[openings[-1] : match.start()]
    return not _CLOSING_QUOTE.search(between) and bool(_CLOSING_QUOTE.search(message, match.end()))


def is_instruction_attack(message: str) -> bool:
    """Whether a team's question or initiative tries to subvert Advisor rather than ask it something."""
    text = _normal(message)
    if _asks_for_exfiltration(text):
        return True
    addresses_us = bool(_ADDRESSES_US.search(text))
    directive = bool(_DIRECTIVE.search(text))
    for match in _REQUEST_ATTACKS.finditer(text):
        benign = _about_their_own(text, match) or (_quoted(text, match) and not directive)
        if addresses_us or not benign:
            return True
    # A disguised attack is an attack whoever it is about: nobody letter-spaces or encodes a question.
    raw = strip_invisible(message)
    return any(_REQUEST_ATTACKS.search(_normal(variant)) for variant in _disguises(raw) if variant != raw)


def is_injection_sentence(sentence: str) -> bool:
    """Whether a sentence of a passage is written to instruct an AI reader rather than to advise people."""
    return _judge_sentence(sentence)


# A verdict depends on the sentence alone, and a corpus repeats its sentences (shared boilerplate,
# chunks retrieved again and again); each costs a few regex scans of every disguised form, so it is
# judged once per process.
@functools.lru_cache(maxsize=1 << 15)
def _judge_sentence(sentence: str) -> bool:
    raw = strip_invisible(sentence)
    if _SECRET_VARIABLE.search(raw):
        return True
    if _passage_attack(_normal(raw)):
        return True
    if any(True for _ in decoded_payloads(raw)):
        return True  # guidance is written in words; an encoded payload is there to be decoded by a model
    return any(_passage_attack(_normal(variant)) for variant in _disguises(raw) if variant != raw)
