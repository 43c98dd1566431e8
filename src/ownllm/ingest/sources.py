"""What an ingest run reads: files and folders on disk (or archive members already in the blob store)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ownllm.errors import NotFound


@dataclass(frozen=True)
class SourceFile:
    path: Path | None  # None for archive members, whose bytes are already in the blob store
    name: str
    source: str
    sync: bool  # part of a folder sync (deletions count) or a single file
    parent_id: str | None = None
    depth: int = 0


def collect_files(paths: Iterable[Path], source: str | None = None) -> list[SourceFile]:
    """Folders are walked (hidden entries skipped) and synced; single files replace their own path.

    `source` names where single files come from (e.g. `upload`); by default their folder.
    """
    found: list[SourceFile] = []
    for root in paths:
        root = Path(root)
        if root.is_dir():
            folder = str(root.resolve())
            for path in sorted(root.rglob("*")):
                relative = path.relative_to(root)
                if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                    found.append(SourceFile(path, relative.as_posix(), folder, True))
        elif root.is_file():
            found.append(SourceFile(root, root.name, source or str(root.resolve().parent), False))
        else:
            raise NotFound(f"{root}: no such file or folder")
    return found
