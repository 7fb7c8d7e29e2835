"""Dash pages and components; every component id lives in ids.py."""
