"""Pure numeric algorithms: arrays in, arrays out. Imports nothing of terrafuse."""
