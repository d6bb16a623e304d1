"""The admin console at /admin: server-rendered pages (jinja2, no script), reached with an admin key."""
