"""Tuning recipes: YAML files validated by a strict schema.

An unknown key or a bad value is an error that names the key (`training.lr: extra key`),
because a silently ignored typo in a hyper-parameter costs a whole training run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator, model_validator

from ownllm.errors import InvalidInput
from ownllm.models.hub import SHIPPED_MODELS
from ownllm.synth.records import GENERATORS

RECIPES_DIR = Path(__file__).parent / "recipes"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
LLAMA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoraSpec(Strict):
    r: int = Field(16, ge=1, le=512)
    alpha: float = Field(32, gt=0)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)  # a mask per adapted input costs a fifth of a CPU step
    target_modules: list[str] = Field(default_factory=lambda: list(LLAMA_TARGETS), min_length=1)


class Stage(Strict):
    method: Literal["cpt", "sft", "raft"]
    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1)
    learning_rate: float = Field(2e-4, gt=0, le=1.0)
    # the rate for a named base where the one above does not carry over (a larger base stores more per step and
    # diverges sooner): chosen when the recipe is loaded for that base, and an explicit
    # `--set stages.N.learning_rate=` still wins
    learning_rate_by_base: dict[str, Annotated[float, Field(gt=0, le=1.0)]] = Field(default_factory=dict)
    # extra passes, per epoch, over the records one synth generator wrote (`{facts: 2}`): a fact seen in one
    # pass is read, not stored, and repeating only those records spends steps on them, not on the rest. A
    # generator that wrote nothing in the stage's file (a company's own JSONL names none) has nothing to repeat;
    # 0 turns a shipped recipe's repeat off (`--set stages.0.repeat.facts=0`)
    repeat: dict[str, Annotated[StrictInt, Field(ge=0, le=20)]] = Field(default_factory=dict)
    # weight of KL(base ‖ tuned) on the replay records' answers, one block of them every step: the base model's
    # whole next-token distribution on general requests anchors general ability, where the replay records'
    # cross-entropy teaches only the one answer the base sampled. 0 (the default) adds nothing; a stage whose
    # file has no replay records (a company's own JSONL) has nothing to anchor on, and its job says so. The KL is
    # taken with LoRA dropout on, as training runs, so the logged drift includes that noise
    kl_to_base: float = Field(0.0, ge=0.0, le=100.0)

    @field_validator("repeat")
    @classmethod
    def _known_generators(cls, repeat: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(repeat) - GENERATORS)
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a synth generator; one of {', '.join(sorted(GENERATORS))}")
        return repeat

    @field_validator("learning_rate_by_base")
    @classmethod
    def _known_bases(cls, rates: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(rates) - set(SHIPPED_MODELS))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a shipped base model; one of {', '.join(SHIPPED_MODELS)}")
        return rates


class TrainingSpec(Strict):
    seq_len: int = Field(512, ge=16, le=32768)
    batch_size: int = Field(4, ge=1)
    grad_accum: int = Field(1, ge=1)
    packing: bool = True
    grad_checkpointing: bool = False
    # "auto": bf16 autocast where the CPU multiplies bf16 fast (AMX tiles, or a timed matmul), float32 elsewhere:
    # without tiles bf16 ran at 135 GFLOP/s against float32's 239 on one VM, 687 against 149 on another
    # (bench/RESULTS.md); settled once per run by tune/train.py `with_precision_decided`
    bf16: bool | Literal["auto"] = "auto"
    seed: int = 0
    save_every: int = Field(20, ge=1)
    warmup_ratio: float = Field(0.05, ge=0.0, lt=1.0)
    scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    weight_decay: float = Field(0.0, ge=0.0)
    max_grad_norm: float = Field(1.0, gt=0)
    threads: int | None = Field(None, ge=1)


class Recipe(Strict):
    name: str
    description: str = ""
    stages: list[Stage] = Field(min_length=1)
    lora: LoraSpec = Field(default_factory=LoraSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)

    @model_validator(mode="after")
    def _two_stages_at_most(self) -> Recipe:
        if len(self.stages) > 2:
            raise ValueError("a recipe has one or two stages")
        return self


def available_recipes() -> list[str]:
    return sorted(path.stem for path in RECIPES_DIR.glob("*.yaml"))


def _describe(error: ValidationError, origin: str) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        problems.append(f"`{key}`: {message}")
    return f"recipe {origin}: " + "; ".join(problems)


def _apply_override(data: dict[str, Any], dotted: str, value: Any) -> None:
    """`training.seq_len=256` or `stages.0.max_steps=10`; `stages.*.x` sets it on every stage."""
    parts = dotted.split(".")
    targets: list[Any] = [data]
    for part in parts[:-1]:
        following = []
        for target in targets:
            if isinstance(target, list):
                following += target if part == "*" else [target[int(part)]]
            else:
                following.append(target.setdefault(part, {}))
        targets = following
    for target in targets:
        target[parts[-1]] = value


def load_recipe(name: str, overrides: dict[str, Any] | None = None, base_model: str | None = None) -> Recipe:
    """A shipped recipe by **name** (`sft-lora`), for `base_model`'s learning rates when given, with dotted-key
    overrides applied before validation.

    Never a path: names come from API callers, and a path would let them probe and read the
    server's files. An operator's own YAML goes through `read_recipe_file` (the CLI).
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name not in available_recipes():
        raise InvalidInput(f"unknown recipe {str(name)[:80]!r}; available: {', '.join(available_recipes())}",
                           param="recipe")
    return read_recipe_file(RECIPES_DIR / f"{name}.yaml", overrides, base_model)


def _validated(data: dict[str, Any], origin: str) -> Recipe:
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_describe(exc, origin), param="recipe") from exc


def _choose_base_rates(data: dict[str, Any], base_model: str, overrides: dict[str, Any]) -> None:
    """Each stage trains `base_model` at its own rate where the recipe names one, unless the caller set the
    stage's rate; the table is then spent, so the run records (and is resumed by) the one rate it trained at."""
    explicit = {match.group(1) for dotted in overrides
                if (match := re.fullmatch(r"stages\.(\d+|\*)\.learning_rate", dotted))}
    for index, stage in enumerate(data.get("stages") or []):
        rates = stage.pop("learning_rate_by_base", None) or {}
        if base_model in rates and not explicit & {str(index), "*"}:
            stage["learning_rate"] = rates[base_model]


def read_recipe_file(path: Path, overrides: dict[str, Any] | None = None, base_model: str | None = None) -> Recipe:
    """A recipe YAML from the operator's own disk (`ownllm tune --recipe-file`)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"recipe {path.name}: cannot be read ({exc})", param="recipe") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"recipe {path.name}: the top level must be a mapping", param="recipe")
    for dotted, value in (overrides or {}).items():
        try:
            _apply_override(data, dotted, value)
        except (IndexError, ValueError, AttributeError, TypeError) as exc:
            raise InvalidInput(f"recipe {path.name}: cannot set `{dotted}` ({exc})", param="recipe") from exc
    if base_model is not None:
        _validated(data, path.name)  # with its rate tables, so a bad one is named before it is spent
        _choose_base_rates(data, base_model, overrides or {})
    return _validated(data, path.name)
