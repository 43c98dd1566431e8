"""Joining a Ray cluster, once per process, for the jobs and the server that run on Ray.

`OWNLLM_RAY_ADDRESS` names an existing cluster (`ray start --head` on the head node; `auto` finds the one
on this machine). Without it, the first caller starts a Ray instance of its own on this machine with
`OWNLLM_RAY_WORKERS` CPUs and publishes its address in `RAY_ADDRESS`, so the job processes the server
spawns join that instance instead of each starting another. The dashboard, when started, listens on
127.0.0.1 only: Ray's job API runs arbitrary code for whoever can reach it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ownllm.config import Settings
from ownllm.errors import OwnLLMError

log = logging.getLogger("ownllm.ray")
LOCAL_ONLY = "127.0.0.1"


def import_ray() -> Any:
    """Ray, or a clear error saying which extra installs it."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise OwnLLMError("the Ray runner needs Ray: pip install 'ownllm[scale]' "
                          "(or set OWNLLM_RUNNER=local)") from exc
    return ray


def ensure_ray(settings: Settings, *, dashboard: bool = False) -> Any:
    """Connect this process to Ray (starting a local instance when no cluster is named); returns `ray`."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    address = settings.ray_address or os.environ.get("RAY_ADDRESS")
    quiet: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False,
                             "ignore_reinit_error": True}
    if address:
        ray.init(address=address, **quiet)
        return ray
    context = ray.init(num_cpus=settings.ray_workers, include_dashboard=dashboard, dashboard_host=LOCAL_ONLY,
                       **quiet)
    os.environ["RAY_ADDRESS"] = context.address_info["gcs_address"]  # spawned job processes join this one
    log.info("started a local Ray instance at %s with %d CPUs", context.address_info["gcs_address"],
             settings.ray_workers)
    return ray


def quiet_datasets(ray: Any) -> None:
    """Ray Data's own progress lines would interleave with the CLI's bar and the job's events, which already
    report progress; keep its warnings."""
    ray.data.DataContext.get_current().enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def ray_storage(settings: Settings, local: Path) -> tuple[str, Any]:
    """Where Ray keeps a run's checkpoints: the blob bucket when blobs are on S3 (`<bucket>/<prefix>/ray-runs/…`,
    so a worker on any machine can restore them), else `local`. Returns (path, pyarrow filesystem or None)."""
    if not (settings.blob_url or "").startswith("s3://"):
        return str(local.resolve()), None
    from pyarrow import fs

    url = urlsplit(settings.blob_url or "")
    options: dict[str, Any] = {}
    if settings.blob_endpoint_url:  # MinIO and other S3-compatible servers
        endpoint = urlsplit(settings.blob_endpoint_url)
        options = {"endpoint_override": endpoint.netloc, "scheme": endpoint.scheme or "https"}
    prefix = "/".join(part for part in (url.netloc, url.path.strip("/"), "ray-runs", local.parent.name) if part)
    return prefix, fs.S3FileSystem(**options)


def on_ray(settings: Settings) -> bool:
    return settings.runner == "ray"
