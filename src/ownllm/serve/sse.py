"""Server-sent events as the OpenAI streaming endpoints write them."""

from __future__ import annotations

import json
from typing import Any

# an SSE comment: clients skip it, while a proxy with an idle timeout sees the stream is alive
KEEPALIVE = ": keep-alive\n\n"


def sse(payload: dict[str, Any] | str) -> str:
    """One `data:` event: a JSON object, or a bare string such as `[DONE]`."""
    data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {data}\n\n"
