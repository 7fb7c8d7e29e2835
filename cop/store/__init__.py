"""The only code that talks to Redis: keys, streams, state, users, the embedded server."""
