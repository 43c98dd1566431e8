"""The one answer path: a chat request, optionally grounded in the tenant's corpus, answered by one
model. The API, `ownllm ask`, every evaluation system and (next) the console and apps call
`answer()` here, so what is evaluated is exactly what is served."""
