"""Application layer: one module per resource, acting for an explicit principal."""
