"""Safety caps for hostile or broken input. Every cap, when hit, becomes a clear per-file error.

Defaults suit a laptop; a tenant can tighten or loosen them in its settings
(`{"limits": {"max_pages": 500}}`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 256 * MB
    max_pages: int = 2000
    # PDF's own limit for a page side is 14400 units (200 inches); larger pages are render bombs
    max_page_points: float = 14400.0
    max_render_pixels: int = 12_000_000
    max_image_pixels: int = 80_000_000
    max_archive_members: int = 5000
    max_archive_total_bytes: int = 1024 * MB
    max_archive_ratio: float = 200.0
    max_archive_depth: int = 3
    max_sheet_cells: int = 5_000_000
    max_media_seconds: float = 4 * 3600.0
    parse_timeout_s: float = 600.0
    parse_memory_mb: int = 6144

    def with_overrides(self, overrides: dict[str, Any] | None) -> Limits:
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown limit(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        return replace(self, **overrides)
