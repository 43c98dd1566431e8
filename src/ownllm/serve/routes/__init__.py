"""Thin routers: parse the body (protocol.py), call one service function, render the response."""
