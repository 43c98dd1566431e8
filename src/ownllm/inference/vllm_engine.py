"""vLLM on a GPU, behind the same Engine interface: HF weights, multi-LoRA (a PEFT adapter folder per
tuned model, served from one loaded base). Only where `vllm` and a CUDA device exist; the tests
that use it say why they skip elsewhere."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ownllm.errors import InvalidInput
from ownllm.inference.chat_template import ChatTemplate
from ownllm.inference.engine import FINISH_LENGTH, FINISH_STOP, EngineSpec, Message, SamplingParams, TokenDelta


def vllm_available() -> tuple[bool, str]:
    """(usable, why not): vLLM needs its package and a CUDA GPU."""
    if importlib.util.find_spec("vllm") is None:
        return False, "the vllm package is not installed (pip install vllm, on a machine with a GPU)"
    import torch

    if not torch.cuda.is_available():
        return False, "no CUDA device is visible"
    return True, ""


class VllmEngine:
    def __init__(self, spec: EngineSpec) -> None:
        usable, why = vllm_available()
        if not usable:
            raise InvalidInput(f"the vLLM engine cannot run here: {why}", param="model")
        from vllm import LLM

        self.spec = spec
        self.n_ctx = spec.n_ctx
        self._llm = LLM(model=str(spec.model_path), max_model_len=spec.n_ctx, enable_lora=spec.lora_path is not None)
        self.tokenizer = self._llm.get_tokenizer()
        self.template = ChatTemplate(getattr(self.tokenizer, "chat_template", None), self.tokenizer.bos_token or "",
                                     self.tokenizer.eos_token or "")
        self._lora: Any = None
        if spec.lora_path is not None:
            from vllm.lora.request import LoRARequest

            self._lora = LoRARequest(spec.lora_path.name, 1, str(spec.lora_path))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def chat_prompt(self, messages: list[Message], **template_vars: Any) -> list[int]:
        tokens: list[int] = []
        for segment in self.template.segments(messages, lambda text: text, **template_vars):
            tokens += self.tokenizer(segment.text, add_special_tokens=False,
                                     split_special_tokens=segment.is_content)["input_ids"]
        return tokens

    def text_prompt(self, text: str) -> list[int]:
        return self.tokenizer(text)["input_ids"]

    def generate(self, prompt: list[int], params: SamplingParams,
                 should_stop: Callable[[], bool]) -> Iterator[TokenDelta]:
        from vllm import SamplingParams as VllmSampling
        from vllm.inputs import TokensPrompt

        sampling = VllmSampling(max_tokens=params.max_tokens, temperature=params.temperature, top_p=params.top_p,
                                stop=list(params.stop) or None, seed=params.seed)
        [result] = self._llm.generate(TokensPrompt(prompt_token_ids=prompt), sampling, lora_request=self._lora)
        output = result.outputs[0]
        finish = FINISH_LENGTH if output.finish_reason == "length" else FINISH_STOP
        yield TokenDelta(output.text, finish, len(output.token_ids))

    def logits(self, tokens: list[int]) -> np.ndarray:
        raise InvalidInput("the vLLM engine does not expose full logits; use llama.cpp or transformers",
                           param="model")

    def memory_bytes(self) -> tuple[int, int]:
        return 0, 0  # GPU memory is vLLM's to manage (gpu_memory_utilization)

    def close(self) -> None:
        self._llm = None
