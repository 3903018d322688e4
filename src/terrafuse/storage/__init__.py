"""Object storage: the protocol and its implementations."""
