"""The web desk: read, triage and tune in the browser (`watcher web`, docs/web.md).

An interface like cli/: it parses requests, calls app/ (through the store's
own thread, `Store.call`) and renders Jinja2 pages; no SQL, HTTP client or
matching logic lives here. `pages.py` has the pages, `triage.py` the marks
posted from them and the signed digest link, `context.py` what they share,
`security.py` who may do what (login, CSRF, read-only), `app.py` the routes
and middleware, `render.py` the templates, and `server.py` runs it under
uvicorn, alone or inside `watcher run`.
"""
