"""The hub: consumes the streams, keeps the current state, pushes batched deltas."""
