"""A local Ray cluster for the scale-out tests: one instance with 2 CPUs for this folder's tests, stopped after.

The tests here run the ingest, tuning and serving code on Ray exactly as a cluster would (Ray Data tasks, Ray
Train workers, Ray Serve replicas in their own processes); only the cluster is one machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import ray  # ownllm[scale]; the dev install has it


@pytest.fixture(scope="package")
def ray_cluster() -> Iterator[str]:
    import os

    from ownllm.config import Settings
    from ownllm.jobs.ray_cluster import ensure_ray

    before = os.environ.get("RAY_ADDRESS")
    ensure_ray(Settings(runner="ray", ray_workers=2))
    yield os.environ["RAY_ADDRESS"]
    ray.shutdown()
    if before is None:
        os.environ.pop("RAY_ADDRESS", None)
