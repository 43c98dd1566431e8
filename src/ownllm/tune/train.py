"""A small, deterministic LoRA trainer for CPU (and anything torch runs on).

Why not `transformers.Trainer`: packing with exact per-example masks, loss normalized per
trained token across gradient-accumulation steps, checkpoints that restore RNG and data
position exactly (a killed run resumes to bit-identical weights), and a cancel check
between steps are each a few lines here and awkward to bolt onto Trainer.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ownllm.errors import Cancelled
from ownllm.tune.checkpoints import list_checkpoints, load_checkpoint, save_checkpoint
from ownllm.tune.data import IGNORE, Block, collate
from ownllm.tune.recipe import Recipe


@dataclass
class StepInfo:
    stage: int
    method: str
    step: int  # within the stage, 1-based
    total: int  # steps in the stage
    global_step: int
    loss: float
    lr: float
    tokens_per_s: float


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)
    steps: int = 0
    trained_tokens: int = 0
    seconds: float = 0.0
    resumed_from: int | None = None

    @property
    def final_loss(self) -> float | None:
        return self.history[-1]["loss"] if self.history else None


def lr_factor(kind: str, total: int, warmup: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        if kind == "constant" or total <= warmup:
            return 1.0
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, 1.0 - progress) if kind == "linear" else 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


BF16_MARGIN = 1.3  # bf16 must beat float32 by this much: near parity float32 (which rounds less) is kept


def bf16_is_fast() -> bool:
    """Whether bf16 autocast trains faster than float32 on this CPU.

    No CPU feature says so alone. AMX tiles make bf16 several times faster, so they settle it at once. With
    AVX-512 bf16 dot products and no tiles, a bf16 matmul ran at half float32's speed on one machine here (Intel,
    135 against 239 GFLOP/s) and at 4.6 times it on another (AMD EPYC: 687 against 149, float32 going through
    a slower path there). So without tiles both are timed, once per process (`bf16_speedup`). A run resumed
    from a checkpoint keeps the precision its job recorded (`tune/run.py`), so a timing never switches a run.
    """
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    if probe is not None and probe():
        return True
    return bf16_speedup() >= BF16_MARGIN


@functools.cache
def bf16_speedup() -> float:
    """How many times faster a bf16 matmul runs than a float32 one here, at a small model's projection size.

    Best of five alternating rounds after a warm-up each, about half a second in all: a busy moment slows
    one round of each, not the minimum.
    """
    generator = torch.Generator().manual_seed(0)
    left = torch.randn(1024, 1024, generator=generator)
    right = torch.randn(1024, 2048, generator=generator)
    pairs = {dtype: (left.to(dtype), right.to(dtype)) for dtype in (torch.float32, torch.bfloat16)}
    best = dict.fromkeys(pairs, math.inf)
    for a, b in pairs.values():
        torch.mm(a, b)
    for _ in range(5):
        for dtype, (a, b) in pairs.items():
            started = time.perf_counter()
            torch.mm(a, b)
            best[dtype] = min(best[dtype], time.perf_counter() - started)
    return best[torch.float32] / max(best[torch.bfloat16], 1e-9)


def uses_bf16(recipe: Recipe) -> bool:
    """The recipe's `training.bf16` with "auto" resolved for this machine."""
    setting = recipe.training.bf16
    return bf16_is_fast() if setting == "auto" else bool(setting)


def with_precision_decided(recipe: Recipe, recorded: str | None = None) -> Recipe:
    """The recipe with `bf16: auto` settled once, for every worker of the run: as `recorded` says for a run
    resumed from a checkpoint ("bf16" or "float32", what its job recorded), else by this machine."""
    if recipe.training.bf16 != "auto":
        return recipe
    bf16 = recorded == "bf16" if recorded in ("bf16", "float32") else bf16_is_fast()
    return recipe.model_copy(update={"training": recipe.training.model_copy(update={"bf16": bf16})})


def training_dtype(recipe: Recipe) -> torch.dtype:
    """The dtype the base model is loaded in for training (bf16 autocast recipes keep bf16 weights)."""
    return torch.bfloat16 if uses_bf16(recipe) else torch.float32


def steps_in_stage(n_blocks: int, recipe: Recipe, stage: int) -> int:
    spec = recipe.stages[stage]
    per_step = recipe.training.batch_size * recipe.training.grad_accum
    per_epoch = max(1, math.ceil(n_blocks / per_step))
    return spec.max_steps or max(1, math.ceil(spec.epochs * per_epoch))


def step_blocks(blocks: list[Block], recipe: Recipe, stage: int, step: int) -> list[list[Block]]:
    """The micro-batches of one optimizer step; the order is a pure function of (seed, stage, epoch)."""
    per_step = recipe.training.batch_size * recipe.training.grad_accum
    per_epoch = max(1, math.ceil(len(blocks) / per_step))
    epoch, offset = divmod(step, per_epoch)
    generator = torch.Generator().manual_seed(recipe.training.seed * 1_000_003 + stage * 1009 + epoch)
    order = torch.randperm(len(blocks), generator=generator).tolist()
    chosen = [blocks[i] for i in order[offset * per_step:(offset + 1) * per_step]]
    size = recipe.training.batch_size
    return [chosen[i:i + size] for i in range(0, len(chosen), size)]


@contextmanager
def mixed_precision(model: Any, bf16: bool) -> Iterator[None]:
    """bf16 autocast for a forward pass of the adapted model, or nothing when training in float32.

    PEFT casts each adapter's input to the adapter's float32 before its matmul, and autocast then casts it straight
    back to bf16: two copies of every adapted input (and their backward) for the same numbers. Inside autocast that
    cast is switched off; the loss and gradients are bit-identical, and a CPU step about 6% shorter here.
    """
    if not bf16:
        yield
        return
    from peft.helpers import disable_input_dtype_casting

    with disable_input_dtype_casting(model), torch.autocast("cpu", dtype=torch.bfloat16):
        yield


def _labelled_logits(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Float32 next-token logits at the labelled positions only, and the mask of those positions.

    The vocabulary projection runs only there: in chat SFT most tokens are prompt, and the 49k-wide logits of
    every prompt token would cost time and the largest activation in memory for nothing.
    """
    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = causal_lm.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                             position_ids=batch["position_ids"]).last_hidden_state[:, :-1, :]
    keep = batch["labels"][:, 1:] != IGNORE
    return causal_lm.lm_head(hidden[keep]).float(), keep


def token_loss_sum(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Summed next-token cross-entropy over labelled tokens (float32), and how many there were."""
    logits, keep = _labelled_logits(model, batch)
    loss = F.cross_entropy(logits, batch["labels"][:, 1:][keep], reduction="sum")
    return loss, int(keep.sum())


def kl_to_base_sum(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Summed KL(base ‖ tuned) over the labelled tokens (float32), and how many there were.

    The base is the same model with its adapter switched off, so no second copy of the weights is held; its
    distribution is the target, so the gradient pulls the tuned model back towards everything the base would
    have said there, not only towards the token it happened to sample.
    """
    with torch.no_grad(), model.disable_adapter():
        base = F.log_softmax(_labelled_logits(model, batch)[0], dim=-1)
    logits, keep = _labelled_logits(model, batch)
    return F.kl_div(F.log_softmax(logits, dim=-1), base, log_target=True, reduction="sum"), int(keep.sum())


def add_lora(model: Any, recipe: Recipe) -> Any:
    from peft import LoraConfig, get_peft_model

    # PEFT asks transformers a deprecated question on every wrap; the answer is right, the warning is noise
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    torch.manual_seed(recipe.training.seed)  # LoRA's A matrices start the same on every run
    config = LoraConfig(r=recipe.lora.r, lora_alpha=recipe.lora.alpha, lora_dropout=recipe.lora.dropout,
                        target_modules=recipe.lora.target_modules, task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, config)
    if recipe.training.grad_checkpointing:
        peft_model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        peft_model.enable_input_require_grads()
    return peft_model


@dataclass(frozen=True)
class DataParallel:
    """This worker's place among `size` data-parallel workers (torch.distributed is initialised by the caller).

    Every worker computes the same step plan; worker `rank` runs sequences rank, rank+size, … of each step,
    normalises by the step's trained tokens over *all* sequences, and the gradients are summed across
    workers. So each optimizer step sees the gradient one worker would compute, and the loss curve is the
    one-worker curve up to float rounding; with LoRA dropout the masks each worker draws differ from one worker's,
    so the curves then agree in expectation, not step by step. (Gradients are all-reduced by hand rather than by
    wrapping the model in DDP: the loss runs the inner model on labelled positions only, which DDP's forward hooks
    would not see.)
    """

    rank: int = 0
    size: int = 1

    @property
    def leader(self) -> bool:
        return self.rank == 0

    def mine(self, micro: list[list[Block]], batch_size: int) -> list[list[Block]]:
        """This worker's sequences of the step (every size-th), regrouped into micro-batches of `batch_size`:
        split by sequence, not by micro-batch, so a step of one micro-batch still keeps every worker busy."""
        if self.size == 1:
            return micro
        share = [block for group in micro for block in group][self.rank::self.size]
        return [share[i:i + batch_size] for i in range(0, len(share), batch_size)]

    def sum(self, values: list[float]) -> list[float]:
        if self.size == 1:
            return values
        import torch.distributed as dist

        tensor = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def sum_gradients(self, params: list[torch.nn.Parameter]) -> None:
        if self.size == 1:
            return
        import torch.distributed as dist

        for param in params:
            if param.grad is None:  # this worker had no micro-batch in the step
                param.grad = torch.zeros_like(param)
        flat = torch.cat([p.grad.reshape(-1) for p in params])
        dist.all_reduce(flat)
        offset = 0
        for param in params:
            count = param.grad.numel()
            param.grad.copy_(flat[offset:offset + count].view_as(param.grad))
            offset += count

    def any(self, flag: bool) -> bool:
        return bool(self.sum([1.0 if flag else 0.0])[0]) if self.size > 1 else flag


class LoraTrainer:
    def __init__(self, model: Any, recipe: Recipe, run_dir: Path, pad_id: int,
                 on_step: Callable[[StepInfo], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 on_checkpoint: Callable[[Path | None, int], None] | None = None,
                 parallel: DataParallel | None = None) -> None:
        self.model = model  # already wrapped by add_lora
        self.recipe = recipe
        self.run_dir = run_dir
        self.pad_id = pad_id
        self.on_step = on_step
        self.should_stop = should_stop
        self.on_checkpoint = on_checkpoint  # (path, step); on data-parallel followers the path is None
        self.parallel = parallel or DataParallel()
        self.bf16 = uses_bf16(recipe)  # tune_into settles "auto" per run; left "auto", it is timed once a process

    def _optimizer(self, lr: float) -> torch.optim.Optimizer:
        params = [p for p in self.model.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, lr=lr, weight_decay=self.recipe.training.weight_decay)

    def train(self, stage_blocks: list[list[Block]], anchors: list[list[Block]] | None = None) -> TrainResult:
        """Every stage's steps over its blocks; where the stage sets `kl_to_base`, each step also holds the model
        to the base on one of the stage's anchor blocks, in turn."""
        from peft import set_peft_model_state_dict

        recipe, training = self.recipe, self.recipe.training
        if training.threads:
            torch.set_num_threads(training.threads)
        result = TrainResult()
        start_stage, start_step, restored = 0, 0, None
        checkpoints = list_checkpoints(self.run_dir)
        if checkpoints:
            restored = load_checkpoint(checkpoints[-1])
            set_peft_model_state_dict(self.model, restored["adapter"])
            start_stage, start_step = restored["stage"], restored["step"]
            result.history = list(restored["history"])
            result.resumed_from = restored["global_step"]
            torch.set_rng_state(restored["rng"])
        global_step = restored["global_step"] if restored else 0
        parallel = self.parallel
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        started = time.perf_counter()
        self.model.train()
        for stage in range(start_stage, len(recipe.stages)):
            spec = recipe.stages[stage]
            blocks = stage_blocks[stage]
            stage_anchors = anchors[stage] if anchors else []
            total = steps_in_stage(len(blocks), recipe, stage)
            first = start_step if stage == start_stage else 0
            if first >= total:
                continue
            optimizer = self._optimizer(spec.learning_rate)
            warmup = int(training.warmup_ratio * total)
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(training.scheduler, total, warmup))
            if restored is not None and stage == start_stage:
                optimizer.load_state_dict(restored["optimizer"])
                scheduler.load_state_dict(restored["scheduler"])
            for step in range(first, total):
                if parallel.any(self.should_stop is not None and self.should_stop()):
                    raise Cancelled("the tuning run was cancelled between steps")
                t0 = time.perf_counter()
                micro = step_blocks(blocks, recipe, stage, step)
                all_batches = [collate(group, self.pad_id) for group in micro]
                n_tokens = sum(int((b["labels"][:, 1:] != IGNORE).sum()) for b in all_batches)
                share = parallel.mine(micro, training.batch_size)  # one worker: all of `micro`, not collated twice
                batches = all_batches if share is micro else [collate(group, self.pad_id) for group in share]
                loss_total = 0.0
                for batch in batches:
                    with mixed_precision(self.model, self.bf16):
                        loss_sum, _ = token_loss_sum(self.model, batch)
                    (loss_sum / max(1, n_tokens)).backward()
                    loss_total += float(loss_sum.detach())
                kl = self._anchor_step(spec.kl_to_base, stage_anchors, global_step)
                parallel.sum_gradients(trainable)
                loss_total, kl = parallel.sum([loss_total, kl])
                torch.nn.utils.clip_grad_norm_(trainable, training.max_grad_norm)
                lr = scheduler.get_last_lr()[0]
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                global_step += 1
                seen = sum(int((b["input_ids"] != self.pad_id).sum()) for b in all_batches)
                elapsed = time.perf_counter() - t0
                loss = loss_total / max(1, n_tokens)
                result.trained_tokens += seen
                result.steps += 1
                point = {"stage": stage, "method": spec.method, "step": step + 1, "global_step": global_step,
                         "loss": loss, "lr": lr}
                if spec.kl_to_base and stage_anchors:
                    point["kl_to_base"] = kl  # per anchor token; the leader's, summed with the followers' zeros
                result.history.append(point)
                if self.on_step is not None:
                    self.on_step(StepInfo(stage, spec.method, step + 1, total, global_step, loss, lr,
                                          seen / elapsed if elapsed else 0.0))
                if (step + 1) % training.save_every == 0 or step + 1 == total:
                    path = None
                    if parallel.leader:  # one copy of the state: every worker holds the same weights
                        path = save_checkpoint(self.run_dir, self.model, {
                            "stage": stage, "step": step + 1, "global_step": global_step,
                            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                            "rng": torch.get_rng_state(), "history": result.history,
                        }).path
                    if self.on_checkpoint is not None:
                        self.on_checkpoint(path, global_step)
            restored = None
        result.seconds = time.perf_counter() - started
        return result

    def _anchor_step(self, weight: float, anchors: list[Block], global_step: int) -> float:
        """Back-propagate `weight` × KL(base ‖ tuned) per token of one anchor block; return that KL per token.

        Block `global_step` mod n, on the leader only: the summed gradients then are exactly one worker's, as
        for the rest of the step, and a run on Ray steps as the same run on one process does.
        """
        if not weight or not anchors or not self.parallel.leader:
            return 0.0
        block = anchors[global_step % len(anchors)]
        with mixed_precision(self.model, self.bf16):
            kl_sum, n_tokens = kl_to_base_sum(self.model, collate([block], self.pad_id))
        kl = kl_sum / max(1, n_tokens)
        (weight * kl).backward()
        return float(kl.detach())
