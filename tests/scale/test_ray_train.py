"""Tuning on Ray Train: two data-parallel workers follow the one-worker loss curve (the `kl_to_base` anchor
included), survive a killed worker by resuming from the last checkpoint, and the run's lineage says how it was
trained."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import psutil

from ownllm.jobs.tracker import job_events
from ownllm.store.statuses import EventType
from ownllm.store.tenants import create_tenant
from ownllm.tune.run import TuneRequest, tune
from tests.conftest import make_home

# four sequences a step, two per worker; no dropout, so the curves can agree to float rounding
RECIPE = {"training.seq_len": 128, "training.batch_size": 2, "training.grad_accum": 2, "training.bf16": False,
          "lora.dropout": 0.0, "stages.0.max_steps": 16, "stages.0.learning_rate": 1e-2, "training.save_every": 4,
          "stages.0.kl_to_base": 1.0}
TOLERANCE = 1e-3  # float sums in another order; measured differences are ~1e-6


def _kill_a_train_worker_after_a_checkpoint(run_root, stop: threading.Event, killed: list[int]) -> None:
    """Once the Ray run has a checkpoint, SIGKILL one Ray Train worker process (as a lost node would)."""
    while not stop.is_set():
        if list(run_root.glob("*/*/checkpoints/step-*")):
            for process in psutil.Process().children(recursive=True):  # this test's Ray, never another's
                with contextlib.suppress(psutil.Error):
                    if "RayTrainWorker" in " ".join(process.cmdline()):
                        os.kill(process.pid, signal.SIGKILL)
                        killed.append(process.pid)
                        return
        time.sleep(0.05)


def _with_replay(qa_file: Path) -> Path:
    """The chat set plus replay records, the base model's answers `kl_to_base` anchors on."""
    replay = [{"messages": [{"role": "user", "content": f"Name a colour ({i})."},
                            {"role": "assistant", "content": "Blue, like the sky."}],
               "metadata": {"generator": "replay"}} for i in range(6)]
    with qa_file.open("a") as handle:
        handle.write("".join(json.dumps(record) + "\n" for record in replay))
    return qa_file


def test_two_ray_workers_follow_the_one_worker_curve_and_survive_a_killed_worker(ray_cluster, tmp_path, tiny_base,
                                                                                qa_file):
    request = TuneRequest(base_model=str(tiny_base), training_file=_with_replay(qa_file), dataset=None,
                          overrides=RECIPE, export_adapter=False)
    local_home = make_home(tmp_path / "local")
    local = tune(local_home, create_tenant(local_home, "acme").id, request)

    home = make_home(tmp_path / "ray", runner="ray", ray_workers=2)
    tenant = create_tenant(home, "acme")
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_a_train_worker_after_a_checkpoint, args=(home.root / "runs", stop, killed))
    killer.start()
    bar: list[int] = []  # what the CLI's progress bar is fed, followed from the leader's recorded steps
    try:
        on_ray = tune(home, tenant.id, request, on_step=lambda info: bar.append(info.global_step))
    finally:
        stop.set()
        killer.join()

    assert local.status == on_ray.status == "succeeded"
    assert killed, "no Ray Train worker was found to kill"
    assert on_ray.result.resumed_from is not None and on_ray.result.resumed_from >= 4  # resumed, not restarted
    ours = [point["loss"] for point in on_ray.result.history]
    theirs = [point["loss"] for point in local.result.history]
    assert len(ours) == len(theirs) == 16
    assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) < TOLERANCE, (ours, theirs)
    drift = [[point["kl_to_base"] for point in run.result.history] for run in (on_ray, local)]
    assert max(drift[1]) > 0  # the anchor took part (the tiny model drifts from its base as it trains)
    assert max(abs(a - b) for a, b in zip(*drift, strict=True)) < TOLERANCE, drift
    assert on_ray.result.trained_tokens > 0
    lineage = json.loads((on_ray.run_dir / "run.json").read_text())["lineage"]
    assert lineage["runner"] == "ray" and lineage["workers"] == 2
    assert json.loads((local.run_dir / "run.json").read_text())["lineage"]["workers"] == 1
    steps = job_events(home, on_ray.job_id, EventType.STEP)
    assert steps and steps[-1].data["step"] == 16  # progress recorded on the job by the leader worker
    assert bar and bar[-1] == 16 and set(range(1, 17)) <= set(bar)
    assert list((on_ray.run_dir / "ray").rglob("checkpoint_*"))  # Ray kept its copies under its storage path
