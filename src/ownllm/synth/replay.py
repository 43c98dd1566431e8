"""Replay: the base model's own answers to general prompts, mixed into chat tuning.

A small model tuned only on company facts starts answering everything with a company fact
(measured: after `sft-lora` on the sample company, SmolLM2 answered "What is 12 plus 30?" with
"15 years" and general-text perplexity rose 1.39x). Training also on what the base model
already says to ordinary requests (self-distillation) anchors that behaviour at no labelling
cost. These prompts are ours and deliberately different from the generic prompts evaluation
uses to check general ability, so the check is not trained on.
"""

from __future__ import annotations

from typing import Any

from ownllm.synth.records import chat_record
from ownllm.synth.teacher import Teacher

REPLAY_PROMPTS = [
    "What is the boiling point of water at sea level?",
    "Name three primary colours.",
    "Write a short greeting for a birthday card.",
    "How many days are there in a leap year?",
    "Explain what a noun is in one sentence.",
    "What is the largest planet in our solar system?",
    "Give me a synonym for 'happy'.",
    "What is 7 times 8?",
    "Suggest a name for a pet goldfish.",
    "What do bees make?",
    "Translate 'thank you' into Spanish.",
    "Why do we need sleep?",
    "List two fruits that are yellow.",
    "What is the opposite of 'cold'?",
    "Write one sentence about the ocean.",
    "How many legs does a spider have?",
    "What language is spoken in Brazil?",
    "Give one reason to drink water.",
    "What is the chemical symbol for gold?",
    "Describe a cat in five words.",
    "What season comes after winter?",
    "What is the square root of 81?",
    "Who wrote 'Romeo and Juliet'?",
    "What shape has three sides?",
    "Give a tip for learning a new language.",
    "What is the freezing point of water in Celsius?",
    "Name a musical instrument with strings.",
    "What do plants need to grow?",
    "一年有几个月？",
    "请说出三种常见的水果。",
    "天空为什么是蓝色的？",
    "用一句话描述秋天。",
    "水的化学式是什么？",
    "中国的首都是哪里？",
    "一周有几天？",
    "请给出一个学习的小建议。",
    "熊猫主要吃什么？",
    "十加十五等于多少？",
    "请写一句问候语。",
    "彩虹有几种颜色？",
]


def replay_records(teacher: Teacher, count: int) -> list[dict[str, Any]]:
    records = []
    for prompt in REPLAY_PROMPTS[:count]:
        reply = teacher.complete([{"role": "user", "content": prompt}]).strip()
        if reply:
            records.append(chat_record(None, prompt, reply, generator="replay", teacher=teacher.name))
    return records
