"""Models: every family behind a small protocol, loaded by its real name or a local folder."""
