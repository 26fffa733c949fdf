"""The HTTP edge: what /graphql reads from a request and how it answers, the GraphiQL
page and its assets, readiness, and CORS, wired into one app by `app.py`; the audit
record of each exchange is assembled in `exchange.py`. `server.py` serves the app."""
