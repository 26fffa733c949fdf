"""The HTTP edge: what /graphql reads from a request and how it answers, the GraphiQL
page and its assets, readiness, and CORS. `server.py` wires these into the app."""
