"""Embedding a corpus version's chunks on Ray: the same groups the local build embeds, spread over workers.

Each group of chunk texts (the local build's batches, shortest first) is one row of a Ray Data dataset; an
actor pool of `OWNLLM_RAY_WORKERS` embedders (each loads the model once) maps them, and the vectors come back
with the group's place, so the index is the one a local build writes and progress follows group by group.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import numpy as np

from ownllm.config import Settings
from ownllm.jobs.ray_cluster import ensure_ray, quiet_datasets


class EmbedGroups:
    """A Ray Data actor: one embedder, loaded once, embedding whole groups."""

    def __init__(self, model: str) -> None:
        from ownllm.retrieval.embeddings import get_embedder

        self.embedder = get_embedder(model)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[bytes]]:
        out = []
        for group in batch["group"]:
            first, texts = pickle.loads(group)
            out.append(pickle.dumps((first, self.embedder.embed_passages(texts))))
        return {"embedded": out}


def embed_groups_on_ray(settings: Settings, model: str, groups: list[list[str]]) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (group number, vectors) as groups finish, in any order."""
    ray = ensure_ray(settings)
    quiet_datasets(ray)
    rows = [{"group": pickle.dumps((number, texts))} for number, texts in enumerate(groups)]
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
    embedded = dataset.map_batches(EmbedGroups, fn_constructor_args=(model,), batch_size=1, batch_format="numpy",
                                   concurrency=settings.ray_workers, num_cpus=1)
    for row in embedded.iter_rows():
        yield pickle.loads(row["embedded"])
