"""Benchmark: ownllm's LoRA trainer vs a plain Hugging Face Trainer + PEFT script, in one run.

    python bench/tune.py [--steps 10] [--seq-len 256] [--batch 4] [--base qwen2.5-coder-0.5b-instruct] \
        [--precision auto|bf16|float32]

Same base model (SmolLM2-135M-Instruct unless `--base`, dequantized from the shipped GGUF), same data (the
sample company's synthesized SFT records), same LoRA (r=16 on all projections, dropout 0),
same sequence length, batch size and optimizer steps, the same precision in both (by default what the
recipes' `bf16: auto` picks here: bf16 autocast on a CPU with AMX tiles, float32 elsewhere), each in its own
process so peak RSS is its own. The plain script tokenizes each record with the chat template,
pads it to the sequence length (what the usual tutorial does: no packing) and masks the prompt.
ownllm's run skips its after-training GGUF adapter export so both peaks are training alone.
Reported: trained tokens/s (real, non-pad tokens through forward+backward per second), peak RSS
and final loss; then how a demo-sized run scales with corpus size.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_dataset(work: Path) -> tuple[Path, Path]:
    from ownllm.config import Settings
    from ownllm.ingest.pipeline import ingest_paths
    from ownllm.samples.generate import generate
    from ownllm.store.home import open_home
    from ownllm.store.tenants import create_tenant
    from ownllm.synth.run import synthesize

    company = generate(work / "company")
    home = open_home(Settings(home=work / "home"))
    tenant = create_tenant(home, "bench")
    ingest_paths(home, tenant.id, [company.dropbox])
    dataset = synthesize(home, tenant.id)
    return Path(dataset.path) / "sft.jsonl", work / "home"


def run_ownllm(args: argparse.Namespace) -> dict:
    from ownllm.config import Settings
    from ownllm.store.home import open_home
    from ownllm.store.tenants import get_tenant
    from ownllm.tune.run import TuneRequest, tune

    home = open_home(Settings(home=Path(args.home)))
    tenant = get_tenant(home, "bench")
    overrides = {"stages.0.max_steps": args.steps, "training.seq_len": args.seq_len, "training.batch_size":
                 args.batch, "training.grad_accum": 1, "lora.dropout": 0.0, "training.save_every": 10_000,
                 "training.warmup_ratio": 0.0, "stages.0.learning_rate": 2e-4, "training.scheduler": "constant",
                 "training.bf16": _bf16(args)}
    started = time.perf_counter()
    outcome = tune(home, tenant.id, TuneRequest(training_file=Path(args.data), dataset=None, overrides=overrides,
                                                base_model=args.base, export_adapter=False))
    result = outcome.result
    return {"tokens": result.trained_tokens, "train_s": result.seconds, "final_loss": result.final_loss,
            "wall_s": time.perf_counter() - started}


def _bf16(args: argparse.Namespace) -> bool:
    """`--precision` resolved as a recipe's `bf16: auto` is, so both trainers run the same arithmetic."""
    from ownllm.tune.train import bf16_is_fast

    return bf16_is_fast() if args.precision == "auto" else args.precision == "bf16"


def run_plain(args: argparse.Namespace) -> dict:
    """The script a user would write from the PEFT docs: Trainer, padding to max_length, no packing."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainerCallback, TrainingArguments

    from ownllm.tune.base import ensure_dequantized

    folder = ensure_dequantized(args.base)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, task_type="CAUSAL_LM",
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                             "up_proj", "down_proj"]))
    rows = []
    for line in Path(args.data).read_text().splitlines():
        messages = json.loads(line)["messages"]
        prompt = tokenizer.apply_chat_template(messages[:-1], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(messages, tokenize=False)
        n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        enc = tokenizer(full, add_special_tokens=False, padding="max_length", truncation=True,
                        max_length=args.seq_len)
        labels = [(-100 if i < n_prompt or m == 0 else t) for i, (t, m) in
                  enumerate(zip(enc["input_ids"], enc["attention_mask"], strict=True))]
        rows.append({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": labels})
    real_tokens = [sum(r["attention_mask"]) for r in rows]
    losses: list[float] = []

    class Losses(TrainerCallback):
        def on_log(self, _args, _state, _control, logs=None, **_kwargs):
            if logs and "loss" in logs:
                losses.append(logs["loss"])

    training = TrainingArguments(output_dir=str(Path(args.home) / "plain"), max_steps=args.steps,
                                 per_device_train_batch_size=args.batch, learning_rate=2e-4, logging_steps=1,
                                 save_strategy="no", report_to=[], bf16=_bf16(args), use_cpu=True, seed=0,
                                 lr_scheduler_type="constant", dataloader_num_workers=0, disable_tqdm=True)
    trainer = Trainer(model=model, args=training, train_dataset=rows, callbacks=[Losses()])
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    # Trainer shuffles with its own sampler; each step sees `batch` rows, on average this many real tokens
    mean_tokens = sum(real_tokens) / len(real_tokens)
    return {"tokens": int(mean_tokens * args.batch * args.steps), "train_s": seconds,
            "final_loss": losses[-1] if losses else None, "wall_s": seconds}


def child(args: argparse.Namespace) -> None:
    result = run_ownllm(args) if args.child == "ownllm" else run_plain(args)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def spawn(name: str, data: Path, home: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", name, "--data", str(data), "--home", str(home),
           "--steps", str(args.steps), "--seq-len", str(args.seq_len), "--batch", str(args.batch), "--base", args.base,
           "--precision", args.precision]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"{name} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--base", default="smollm2-135m-instruct", help="a tunable shipped model (`ownllm models`)")
    parser.add_argument("--precision", choices=["auto", "bf16", "float32"], default="auto",
                        help="auto: bf16 autocast where the CPU has AMX tiles, float32 elsewhere")
    parser.add_argument("--child")
    parser.add_argument("--data")
    parser.add_argument("--home")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        data, home = make_dataset(Path(tmp))
        ours = spawn("ownllm", data, home, args)
        plain = spawn("plain", data, home, args)
        ours_tps, plain_tps = ours["tokens"] / ours["train_s"], plain["tokens"] / plain["train_s"]
        precision = "bf16 autocast" if _bf16(args) else "float32"
        print(f"\nSame model ({args.base}), data, LoRA r=16, seq_len {args.seq_len}, batch {args.batch}, "
              f"{args.steps} steps, {precision}\n")
        print("| metric | ownllm | plain HF Trainer + PEFT | ratio |")
        print("|---|---:|---:|---:|")
        print(f"| trained tokens/s | {ours_tps:.0f} | {plain_tps:.0f} | {ours_tps / plain_tps:.2f}× |")
        print(f"| peak RSS, MB | {ours['peak_rss_mb']:.0f} | {plain['peak_rss_mb']:.0f} | "
              f"{ours['peak_rss_mb'] / plain['peak_rss_mb']:.2f}× |")
        print(f"| final loss | {ours['final_loss']:.3f} | {plain['final_loss']:.3f} | — |")
        print(f"| real tokens trained in {args.steps} steps | {ours['tokens']} | {plain['tokens']} | "
              f"{ours['tokens'] / plain['tokens']:.2f}× |")
        from transformers import AutoTokenizer

        from ownllm.synth.dataset import record_generator
        from ownllm.tune.base import dequantized_folder
        from ownllm.tune.data import record_example
        from ownllm.tune.recipe import load_recipe

        tokenizer = AutoTokenizer.from_pretrained(dequantized_folder(args.base))
        records = [json.loads(line) for line in data.read_text().splitlines()]
        repeat = load_recipe("sft-lora").stages[0].repeat  # the epoch's extra passes over some generators' records
        print("\nScaling of one sft-lora epoch (its repeats included) with corpus size (ownllm throughput above):\n")
        print("| share of the sample company | SFT records | tokens | minutes per epoch |")
        print("|---:|---:|---:|---:|")
        for share in (0.25, 0.5, 1.0, 4.0, 16.0):
            count = int(len(records) * share)
            sample = (records * int(share + 1))[:count]
            tokens = sum(len(record_example(tokenizer, r, "x").input_ids) * (1 + repeat.get(record_generator(r), 0))
                         for r in sample)
            print(f"| {share:g}× | {count} | {tokens} | {tokens / ours_tps / 60:.1f} |")


if __name__ == "__main__":
    main()
