"""Where work runs: executors, dispatcher and the worker entry point."""
