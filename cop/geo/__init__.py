"""Reference geodata, CRS helpers, spatial joins and models."""
