"""Publish an index directory atomically: write into a staging folder, then swap it into place.

A reader sees the previous complete index or the new complete one, never half of one.
"""

from __future__ import annotations

import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


def publish_dir(target: Path, write: Callable[[Path], None]) -> None:
    staging = target.with_name(f"{target.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    write(staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


class LoadedCache(Generic[T]):
    """A small per-process LRU of loaded indexes, keyed by home and version; builds run one at a time."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    def get(self, key: str, load: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        with self._build_lock:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            value = load()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
