"""Benchmark: how many passes over a document's fact records a base needs to answer closed-book.

    python bench/recall_passes.py --home HOME --tenant acme --questions questions.jsonl \
        [--documents a.pdf,b.docx] [--passes 1,2,4,8,16] [--model smollm2-135m-instruct] \
        [--set lora.r=64 --set lora.alpha=128]

Closed-book recall of a company fact is the one score the recipe's two extra passes over the fact records do
not lift far (bench/RESULTS.md, "Repeating the fact records"). This asks the question the recipe cannot answer
in a 30-minute run: does recall keep rising with more passes, and what does each pass cost in general text?

It trains the `sft-lora` recipe's adapter (same rank, modules, learning rate, bf16, packing, batch) on the fact
and continuation records the tenant's latest dataset holds for the chosen training documents, with a constant
learning rate after a 5-step warm-up so every pass counts alike, and after each listed pass count prints:
- the company's own questions about those documents, answered closed-book with the eval's system prompt
  (`company F1`, and the share answered exactly);
- 60 of the fact records' own questions, in the phrasing trained on (`trained-phrasing F1`);
- the per-token loss on the base's own replies to the replay prompts, and exp of its rise
  (`general`, a stand-in for the gate's perplexity ratio: the same direction, not the same number).
The gap between the last two F1s is how much the model memorised a phrasing rather than a fact.
Default documents: the dataset's training documents that have a question in the file.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path
from typing import Any

PROBE = 60
WARMUP_STEPS = 5


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--tenant", default="acme")
    parser.add_argument("--questions", type=Path, required=True,
                        help="JSONL of question, answer, source (a document name), lang")
    parser.add_argument("--dataset", default="latest", help="the synth dataset whose records to train on")
    parser.add_argument("--documents", default="", help="comma-separated document names (default: see above)")
    parser.add_argument("--passes", default="1,2,4,8,16")
    parser.add_argument("--generators", default="facts,continuation")
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="override a key of sft-lora that this loop uses (lora.r=64), as `ownllm tune --set` does")
    parser.add_argument("--skip-base-answers", action="store_true",
                        help="do not answer the questions before training (a second run on the same questions)")
    parser.add_argument("--out", type=Path, default=None,
                        help="also append each result as a JSON line here, with every company question's reply")
    return parser.parse_args()


def main() -> None:
    args = _args()
    overrides = _overrides(args.sets)  # refuse a key this loop would ignore before any model loads
    import torch

    from ownllm.chat.policy import CLOSED_BOOK_SYSTEM
    from ownllm.config import Settings
    from ownllm.evaluate.metrics import f1_score
    from ownllm.store.home import open_home
    from ownllm.store.tenants import get_tenant
    from ownllm.synth.dataset import dataset_records, get_dataset, read_jsonl, record_generator
    from ownllm.synth.source import load_corpus
    from ownllm.tune.base import load_base
    from ownllm.tune.data import collate, pack, record_example
    from ownllm.tune.recipe import load_recipe
    from ownllm.tune.train import add_lora, lr_factor, mixed_precision, token_loss_sum

    home = open_home(Settings(home=args.home))
    tenant = get_tenant(home, args.tenant).id
    dataset = get_dataset(home, tenant, args.dataset)
    names = {d.id: d.name for d in load_corpus(home, tenant).documents}
    trained_ids = set(dataset.split["train_document_ids"])
    questions = [q for q in read_jsonl(args.questions) if q.get("source") and q.get("answer")]
    asked = {q["source"] for q in questions}
    trained_names = {names[i] for i in trained_ids if i in names}  # a document deleted since synth has no name
    documents = set(filter(None, args.documents.split(","))) or trained_names & asked
    unknown = documents - trained_names
    if unknown:
        raise SystemExit(f"not training documents of dataset {dataset.id}: {', '.join(sorted(unknown))}")
    generators = set(args.generators.split(","))
    records = dataset_records(dataset, "sft")
    chosen = [r for r in records if record_generator(r) in generators
              and names.get(r["metadata"].get("document_id")) in documents]
    facts = [r for r in chosen if record_generator(r) == "facts"]
    replay = [r for r in records if record_generator(r) == "replay"]
    company = [q for q in questions if q["source"] in documents]
    probe = random.Random(0).sample(facts, min(PROBE, len(facts)))

    recipe = load_recipe("sft-lora", overrides, args.model)  # the base's own rate where the recipe names one
    torch.manual_seed(recipe.training.seed)
    base = load_base(args.model, torch.bfloat16)
    tokenizer, pad = base.tokenizer, base.pad_id
    model = add_lora(base.model, recipe)
    blocks = pack([record_example(tokenizer, r, "sft") for r in chosen], recipe.training.seq_len)
    size = recipe.training.batch_size
    general = [collate(group, pad) for group in _groups(
        pack([record_example(tokenizer, r, "replay") for r in replay], recipe.training.seq_len), size)]
    trainable = [p for p in model.parameters() if p.requires_grad]
    lr = recipe.stages[0].learning_rate
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=recipe.training.weight_decay)
    warmup = lr_factor("constant", 0, WARMUP_STEPS)  # a ramp, then the recipe's rate for every pass alike
    print(f"recipe sft-lora {overrides}: r {recipe.lora.r}, alpha {recipe.lora.alpha}, "
          f"modules {','.join(recipe.lora.target_modules)}; "
          f"{sum(p.numel() for p in trainable):,} adapted parameters")
    print(f"{len(documents)} documents, {len(chosen)} records ({len(facts)} facts), {len(blocks)} blocks "
          f"({math.ceil(len(blocks) / size)} steps a pass); {len(company)} company questions; "
          f"general: {len(replay)} replay replies")

    def general_loss() -> float:
        total, count = 0.0, 0
        with torch.no_grad(), mixed_precision(model, True):
            for batch in general:
                loss, n = token_loss_sum(model, batch)
                total, count = total + float(loss), count + n
        return total / max(1, count)

    def closed_book(question: str) -> str:
        ids = tokenizer.apply_chat_template([{"role": "system", "content": CLOSED_BOOK_SYSTEM},
                                             {"role": "user", "content": question}],
                                            add_generation_prompt=True, return_tensors="pt")
        ids = ids["input_ids"] if hasattr(ids, "keys") else ids
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=32,
                                 do_sample=False, pad_token_id=pad)
        return tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True).split("\n\n")[0].strip()

    def measure(passes: int, seconds: float, base_loss: float | None) -> float:
        model.eval()
        replies = [closed_book(q["question"]) for q in company]
        scores = [f1_score(reply, q["answer"], q.get("lang", "en")) for reply, q in zip(replies, company, strict=True)]
        trained = [f1_score(closed_book(r["messages"][-2]["content"]), r["messages"][-1]["content"])
                   for r in probe]
        loss = general_loss()
        model.train()
        row: dict[str, Any] = {
            "passes": passes, "company_f1": round(sum(scores) / max(1, len(scores)), 3),
            "company_exact": round(sum(s >= 0.99 for s in scores) / max(1, len(scores)), 3),
            "trained_phrasing_f1": round(sum(trained) / max(1, len(trained)), 3),
            "general_loss": round(loss, 4),
            "general_ratio": round(math.exp(loss - base_loss), 2) if base_loss is not None else 1.0,
            "train_seconds": round(seconds), "sets": args.sets,
            # each company question's reply, so a change can be read question by question (`--out` only)
            "answers": [{"question": q["question"], "gold": q["answer"], "reply": reply, "f1": round(score, 3)}
                        for q, reply, score in zip(company, replies, scores, strict=True)]}
        print(f"passes {passes:>3}: company F1 {row['company_f1']:.3f} (exact {row['company_exact']:.2f}), "
              f"trained-phrasing F1 {row['trained_phrasing_f1']:.3f}, general exp(Δloss) {row['general_ratio']}×, "
              f"{row['train_seconds']} s trained", flush=True)
        if args.out:
            with args.out.open("a", encoding="utf-8") as out:
                out.write(json.dumps(row) + "\n")
        return loss

    if args.skip_base_answers:  # the base's answers are the same for every dataset; its general loss is needed
        model.eval()
        base_loss = general_loss()
        model.train()
    else:
        base_loss = measure(0, 0.0, None)
    trained_seconds, done, step = 0.0, 0, 0
    for target in sorted(int(p) for p in args.passes.split(",")):
        started = time.perf_counter()
        while done < target:
            order = torch.randperm(len(blocks), generator=torch.Generator().manual_seed(done)).tolist()
            for group in _groups([blocks[i] for i in order], size):
                batch = collate(group, pad)
                for param_group in optimizer.param_groups:
                    param_group["lr"] = lr * warmup(step)
                with mixed_precision(model, True):
                    loss, n_labelled = token_loss_sum(model, batch)
                (loss / max(1, n_labelled)).backward()
                torch.nn.utils.clip_grad_norm_(trainable, recipe.training.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
            done += 1
        trained_seconds += time.perf_counter() - started
        measure(done, trained_seconds, base_loss)


# the recipe keys this loop reads; any other (a KL anchor, repeats, a schedule) it would silently ignore
HONOURED_KEYS = ("lora.", "stages.0.learning_rate", "training.seq_len", "training.batch_size", "training.seed",
                 "training.weight_decay", "training.max_grad_norm")


def _overrides(sets: list[str]) -> dict[str, Any]:
    """`ownllm tune --set`'s parsing, then a refusal of any key this loop would ignore."""
    import typer

    from ownllm.cli.teach import parse_sets

    try:
        overrides = parse_sets(sets)
    except typer.BadParameter as exc:
        raise SystemExit(str(exc)) from exc
    for key in overrides:
        if not key.startswith(HONOURED_KEYS):
            raise SystemExit(f"--set {key}: this benchmark does not use that key; it honours "
                             f"{', '.join(k + '*' if k.endswith('.') else k for k in HONOURED_KEYS)}")
    return overrides


def _groups(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


if __name__ == "__main__":
    main()
