"""Running onedoor on one machine: the Temporal dev server, the register, worker, API and simulator."""
