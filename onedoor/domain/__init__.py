"""Pure domain rules and models of onedoor: no I/O, safe to import from workflow code."""
