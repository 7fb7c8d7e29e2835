"""Feed workers: one module per feed; base.py has the worker loop."""
