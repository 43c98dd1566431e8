"""A second look at a grounded answer before it is given: does the passage really say it?

A reader shown passages about the company's CEO answers "who is the CFO?" with the CEO's name; told
to decline when the documents do not hold the answer, Qwen2.5-Coder-1.5B still answered 13 of the
sample company's 50 unanswerable questions that way (measured, `bench/knowledge.py`). Asked the same
model afterwards, as its own next turn, whether the documents state that answer, it said "yes" to all
13; asked in a fresh turn as a strict checker (the passages, the question, the proposed answer), it
said "no" to 11 of them and to 3 of 30 right answers. So a strong reader's answer goes through that
fresh check, and a "no" becomes the not-found answer. The check costs one more prompt (the passages
again) and one generated token.
"""

from __future__ import annotations

import math

from ownllm.inference.engine import Message, SamplingParams, TokenLogprob

CHECK_SYSTEM = ("You check whether documents answer a question. Be strict: a document about a different product, "
                "person, place, role or year does not answer it.")
CHECK_QUESTION = "Do the documents state this answer to exactly this question? Reply yes or no."
PROPOSED = {"en": "Proposed answer", "zh": "候选答案"}
# one token either way; both cases, because the model's preferred spelling is "Yes"/"No"
VERDICT_GRAMMAR = 'root ::= [Yy] "es" | [Nn] "o"'
# the first token's distribution (taken before the grammar) gives the verdict's probability
VERDICT_PARAMS = SamplingParams(max_tokens=2, temperature=0.0, grammar=VERDICT_GRAMMAR, logprobs=True,
                                top_logprobs=20)


def check_messages(grounded: list[Message], answer: str, lang: str) -> list[Message]:
    """The checker's turn: the grounded question as the reader saw it (passages, question), then the answer.

    Only the last user turn matters (it carries the passages and the question); earlier turns and the
    reader's instructions are left out so the checker judges what is written, not the conversation.
    """
    grounded_question = next((str(m.get("content") or "") for m in reversed(grounded) if m.get("role") == "user"), "")
    label = PROPOSED.get(lang, PROPOSED["en"])
    return [{"role": "system", "content": CHECK_SYSTEM},
            {"role": "user", "content": f"{grounded_question}\n\n{label}: {answer.strip()}\n\n{CHECK_QUESTION}"}]


def yes_probability(logprobs: list[TokenLogprob] | None) -> float | None:
    """P(yes) against P(no) at the verdict's first token, from the model's own distribution.

    Every spelling counts ("Yes", "yes", " yes", "YES"): the mass the model splits between them is one
    opinion. None when the engine gave no logprobs or neither word is among the top tokens.
    """
    if not logprobs:
        return None
    yes = no = 0.0
    for piece, logprob in logprobs[0].top:
        word = piece.strip().lower()
        if word in ("y", "ye", "yes"):
            yes += math.exp(logprob)
        elif word in ("n", "no"):
            no += math.exp(logprob)
    return yes / (yes + no) if yes + no > 0 else None


def says_supported(verdict: str, p_yes: float | None = None, threshold: float = 0.5) -> bool:
    """The checker's verdict: the answer is kept unless the checker says "no".

    With the verdict's probability, "no" means P(yes) below `threshold` (0.5 is the greedy token; lower
    keeps answers the checker is unsure of). Without it, anything but a "no" keeps the answer (an empty
    verdict too).
    """
    if p_yes is not None:
        return p_yes >= threshold
    return not verdict.strip().lower().startswith("n")
