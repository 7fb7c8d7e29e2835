"""COP: a real-time common operational picture for national crisis management."""

__version__ = "0.1.0"
