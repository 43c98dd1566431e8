"""Turn records into token blocks: chat loss on assistant tokens only, text loss on all, then pack.

Packing puts several whole examples into one block of `seq_len` tokens (first-fit by
length, longest first) and gives each block a block-diagonal causal mask with positions
restarting per example, so a packed example is computed exactly as it would be alone —
but no step is spent on padding. An example longer than `seq_len` is cut at `seq_len`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ownllm.errors import InvalidInput

IGNORE = -100


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]

    @property
    def n_trained(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def _template_ids(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> list[int]:
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=generation_prompt)
    if hasattr(ids, "keys"):
        ids = ids["input_ids"]
    return list(ids)


def chat_example(tokenizer: Any, messages: list[dict[str, str]]) -> Example:
    """Label only what the assistant says (its content and end-of-turn), in the model's template."""
    input_ids: list[int] = []
    labels: list[int] = []
    for index, message in enumerate(messages):
        full = _template_ids(tokenizer, messages[: index + 1], generation_prompt=False)
        if message["role"] == "assistant":
            prompt = _template_ids(tokenizer, messages[:index], generation_prompt=True)
            if full[: len(prompt)] != prompt or prompt[: len(input_ids)] != input_ids:
                raise InvalidInput("the chat template does not render turn by turn as a prefix; cannot mask "
                                   "the loss to assistant tokens")
            labels += [IGNORE] * (len(prompt) - len(input_ids)) + full[len(prompt):]
        else:
            if full[: len(input_ids)] != input_ids:
                raise InvalidInput("the chat template does not render turn by turn as a prefix")
            labels += [IGNORE] * (len(full) - len(input_ids))
        input_ids = full
    return Example(input_ids, labels)


def text_example(tokenizer: Any, text: str) -> Example:
    ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return Example(ids, list(ids))


def record_example(tokenizer: Any, record: dict[str, Any], where: str) -> Example:
    if isinstance(record.get("messages"), list):
        messages = record["messages"]
        if not any(m.get("role") == "assistant" for m in messages):
            raise InvalidInput(f"{where}: a chat record needs at least one assistant message")
        for m in messages:
            if m.get("role") not in ("system", "user", "assistant") or not isinstance(m.get("content"), str):
                raise InvalidInput(f"{where}: each message needs a role (system/user/assistant) and string content")
        return chat_example(tokenizer, messages)
    if isinstance(record.get("prompt"), str) and isinstance(record.get("completion"), str):
        return chat_example(tokenizer, [{"role": "user", "content": record["prompt"]},
                                        {"role": "assistant", "content": record["completion"]}])
    if isinstance(record.get("text"), str):
        return text_example(tokenizer, record["text"])
    raise InvalidInput(f"{where}: a record needs `messages` (chat), `prompt` and `completion`, or `text` (raw text)")


@dataclass
class Block:
    input_ids: list[int]
    labels: list[int]
    lengths: list[int]  # the examples packed into it, in order


def pack(examples: list[Example], seq_len: int) -> list[Block]:
    """First-fit decreasing: deterministic, and usually within a few percent of no padding."""
    ordered = sorted(range(len(examples)), key=lambda i: (-min(len(examples[i].input_ids), seq_len), i))
    blocks: list[Block] = []
    free: list[int] = []
    for index in ordered:
        example = examples[index]
        ids, labels = example.input_ids[:seq_len], example.labels[:seq_len]
        if not any(label != IGNORE for label in labels[1:]):
            continue  # nothing left to learn after the cut
        for position, room in enumerate(free):
            if room >= len(ids):
                block = blocks[position]
                block.input_ids += ids
                block.labels += labels
                block.lengths.append(len(ids))
                free[position] -= len(ids)
                break
        else:
            blocks.append(Block(list(ids), list(labels), [len(ids)]))
            free.append(seq_len - len(ids))
    return blocks


def unpacked(examples: list[Example], seq_len: int) -> list[Block]:
    return [Block(e.input_ids[:seq_len], e.labels[:seq_len], [min(len(e.input_ids), seq_len)])
            for e in examples if any(label != IGNORE for label in e.labels[1:seq_len])]


def collate(blocks: list[Block], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad to the longest block; the 4-D mask lets each token see only earlier tokens of its own example."""
    width = max(len(b.input_ids) for b in blocks)
    input_ids = torch.full((len(blocks), width), pad_id, dtype=torch.long)
    labels = torch.full((len(blocks), width), IGNORE, dtype=torch.long)
    positions = torch.zeros((len(blocks), width), dtype=torch.long)
    mask = torch.zeros((len(blocks), 1, width, width), dtype=torch.bool)
    for row, block in enumerate(blocks):
        n = len(block.input_ids)
        input_ids[row, :n] = torch.tensor(block.input_ids)
        labels[row, :n] = torch.tensor(block.labels)
        start = 0
        for length in block.lengths:
            end = start + length
            positions[row, start:end] = torch.arange(length)
            mask[row, 0, start:end, start:end] = torch.tril(torch.ones(length, length, dtype=torch.bool))
            start = end
        if n < width:  # padding rows attend to themselves so softmax stays finite; their labels are ignored
            mask[row, 0, torch.arange(n, width), torch.arange(n, width)] = True
    return {"input_ids": input_ids, "labels": labels, "position_ids": positions, "attention_mask": mask}
