"""Dash callbacks, one module per page: thin adapters over domain functions."""
