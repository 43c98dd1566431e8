"""Near-duplicate detection with MinHash LSH (datasketch).

Exact duplicates are caught earlier by hashes (same bytes, or the same cleaned text);
this step catches the same document saved again with small edits or in another format.
Shingles are 5-token windows where Chinese characters count as tokens, so both
languages are compared fairly. Signatures are stored with the document so the index of a
corpus can be rebuilt without re-reading any text.
"""

from __future__ import annotations

import re

import numpy as np
from datasketch import MinHash, MinHashLSH

NUM_PERM = 128
SHINGLE = 5
SCHEME = "affine32"  # datasketch 2's default; stored signatures must be read back with the same scheme
_TOKENS = re.compile(r"[a-z0-9]+|[\u3400-\u9fff\uac00-\ud7af]")


def signature(text: str) -> MinHash:
    tokens = _TOKENS.findall(text.lower())
    shingles = {" ".join(tokens[i:i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1))}
    minhash = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)
    minhash.update_batch([s.encode() for s in shingles])
    return minhash


def to_bytes(minhash: MinHash) -> bytes:
    return np.asarray(minhash.hashvalues, dtype=np.uint64).tobytes()


def from_bytes(data: bytes) -> MinHash:
    return MinHash(num_perm=NUM_PERM, seed=1, hashvalues=np.frombuffer(data, dtype=np.uint64).copy(),
                   scheme=SCHEME)


class NearDuplicateIndex:
    def __init__(self, threshold: float = 0.9) -> None:
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._signatures: dict[str, MinHash] = {}

    def add(self, key: str, minhash: MinHash) -> None:
        if key not in self._signatures:
            self._lsh.insert(key, minhash)
            self._signatures[key] = minhash

    def best_match(self, minhash: MinHash, exclude: set[str] | None = None) -> tuple[str, float] | None:
        """The most similar stored key at or above the threshold, with its estimated Jaccard."""
        best: tuple[str, float] | None = None
        for key in self._lsh.query(minhash):
            if exclude and key in exclude:
                continue
            similarity = minhash.jaccard(self._signatures[key])
            if similarity >= self.threshold and (best is None or similarity > best[1]):
                best = (key, similarity)
        return best
