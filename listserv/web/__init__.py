"""The web face: sign-in by mailed link, the de-attributed archive, the moderation queue.

    server.py     start_web(): uvicorn on the server's event loop, stopped by `stopping`
    app.py        create_app(): the FastAPI application and its shared WebContext
    security.py   response headers, secrets and digests, CSRF tokens, cookies
    sessions.py   sign-in links and sessions (digests only, see models.py)
    ratelimit.py  counting requests per address and per client
    access.py     who is asking: the signed-in member and what they may read
    rendering.py  templates, TLP badges, post text and search hits as inert HTML
    routers/      one router per area: signin, archive, moderation, membership

Everything shown comes from the archive's scrubbed tables (archive/reading.py,
archive/search.py), never from an original message (CHATHAM_HOUSE decision 7).
"""
