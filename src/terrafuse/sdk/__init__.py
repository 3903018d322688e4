"""The terrafuse Python SDK (client side; imports nothing of the server)."""
