"""The HTTP API operators and units use: thin routes over the Temporal client and the register."""
