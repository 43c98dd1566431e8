"""A reference engine on PyTorch transformers: the same Engine interface over an HF folder (float32).

Slow and unbatched; it exists to cross-check what llama.cpp computes (tests compare greedy
continuations and logits) and to serve models llama.cpp cannot read. Prompts are rendered by the
same sandboxed chat template code as llama.cpp's, with message contents tokenized as plain text.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ownllm.inference.chat_template import ChatTemplate, Segment
from ownllm.inference.engine import (
    FINISH_CANCELLED,
    FINISH_LENGTH,
    FINISH_STOP,
    EngineSpec,
    Message,
    SamplingParams,
    TokenDelta,
)


class TransformersEngine:
    def __init__(self, spec: EngineSpec) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.spec = spec
        self.n_ctx = spec.n_ctx
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(spec.model_path)
        self.model = AutoModelForCausalLM.from_pretrained(spec.model_path, dtype=torch.float32).eval()
        if spec.lora_path is not None:
            from peft import PeftModel

            self.model = PeftModel.from_pretrained(self.model, spec.lora_path).eval()
        bos = self.tokenizer.bos_token or ""
        self.template = ChatTemplate(self.tokenizer.chat_template, bos, self.tokenizer.eos_token or "")
        self._eog = {t for t in (self.tokenizer.eos_token_id, self.tokenizer.convert_tokens_to_ids("<|im_end|>"))
                     if isinstance(t, int) and t >= 0}

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"])

    def chat_prompt(self, messages: list[Message], **template_vars: Any) -> list[int]:
        segments = self.template.segments(messages, lambda text: text, **template_vars)
        return self._tokens_of(segments)

    def _tokens_of(self, segments: list[Segment]) -> list[int]:
        tokens: list[int] = []
        for segment in segments:
            tokens += self.tokenizer(segment.text, add_special_tokens=False,
                                     split_special_tokens=segment.is_content)["input_ids"]
        return tokens

    def text_prompt(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=True, split_special_tokens=True)["input_ids"]

    def generate(self, prompt: list[int], params: SamplingParams,
                 should_stop: Callable[[], bool]) -> Iterator[TokenDelta]:
        torch = self._torch
        generator = torch.Generator().manual_seed(params.seed if params.seed is not None else 0)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        ids = torch.tensor([prompt])
        past, text, produced, finish = None, "", 0, FINISH_LENGTH
        with torch.no_grad():
            for _ in range(min(params.max_tokens, self.n_ctx - len(prompt))):
                out = self.model(input_ids=ids, past_key_values=past, use_cache=True)
                past, logits = out.past_key_values, out.logits[0, -1].float()
                token = self._pick(logits, params, generator)
                if token in self._eog:
                    finish = FINISH_STOP
                    break
                if should_stop():
                    finish = FINISH_CANCELLED
                    break
                produced += 1
                piece = decoder.decode(self.tokenizer.convert_tokens_to_string(
                    [self.tokenizer.convert_ids_to_tokens(token)]).encode())
                text += piece
                cut = min((i for i in (text.find(s) for s in params.stop if s) if i >= 0), default=None)
                if cut is not None:
                    yield TokenDelta(piece[: max(0, len(piece) - (len(text) - cut))], FINISH_STOP, produced)
                    return
                yield TokenDelta(piece)
                ids = torch.tensor([[token]])
        yield TokenDelta("", finish, produced)

    def _pick(self, logits: Any, params: SamplingParams, generator: Any) -> int:
        torch = self._torch
        if params.temperature <= 0:
            return int(torch.argmax(logits))
        probs = torch.softmax(logits / params.temperature, dim=-1)
        ordered, index = torch.sort(probs, descending=True)
        keep = torch.cumsum(ordered, dim=-1) - ordered < params.top_p
        ordered = ordered * keep
        return int(index[torch.multinomial(ordered / ordered.sum(), 1, generator=generator)])

    def logits(self, tokens: list[int]) -> np.ndarray:
        torch = self._torch
        with torch.no_grad():
            return self.model(input_ids=torch.tensor([tokens])).logits[0].float().numpy()

    def memory_bytes(self) -> tuple[int, int]:
        return 0, sum(p.numel() * p.element_size() for p in self.model.parameters())

    def close(self) -> None:
        self.model = None
