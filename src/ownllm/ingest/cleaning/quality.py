"""Quality filters for text blocks: mojibake, symbol soup, and degenerate repetition.

Tables and code keep their symbols and are only checked for mojibake. Each filter
returns why it dropped a block so the cleaning report can count reasons.
"""

from __future__ import annotations

import re
from collections import Counter

from ownllm.ingest.parsed import Block

_MOJIBAKE = re.compile(r"Ã[\u0080-\u00bf]|â€[\u0080-\u00bf™œ˜“”]|Â[\u00a0-\u00bf ]|ï¿½")
_WORDISH = re.compile(r"[\w\u3400-\u9fff\uac00-\ud7af]", re.UNICODE)
_TOKENS = re.compile(r"\w+|[\u3400-\u9fff]", re.UNICODE)


def rejection_reason(block: Block) -> str | None:
    text = block.text
    replacement = text.count("\ufffd")
    if len(_MOJIBAKE.findall(text)) >= 3 or (replacement and replacement / max(1, len(text)) > 0.05):
        return "mojibake"
    if block.kind in ("table", "code"):
        return None
    visible = [c for c in text if not c.isspace()]
    if len(visible) >= 20:
        wordish = sum(1 for c in visible if _WORDISH.match(c))
        if wordish / len(visible) < 0.5:
            return "garbage"
    tokens = _TOKENS.findall(text.lower())
    if len(tokens) >= 12:
        _, top = Counter(tokens).most_common(1)[0]
        if top / len(tokens) > 0.5:
            return "repetition"
    return None
