"""Every side effect of a case: register writes, directory reads, and calls to the outside world."""
