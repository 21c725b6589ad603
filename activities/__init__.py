"""Every side effect of a case: register writes, directory reads, and calls to the outside world."""

from temporalio import activity

# A sync activity that writes the register must never be interrupted mid-transaction: on a timeout
# or cancel Temporal would raise CancelledError inside its thread, which can leave a connection in
# an open transaction holding row locks that every retry then waits on. It runs to its end instead
# (its late result is discarded, and the retry's keyed write finds the work done).
database_activity = activity.defn(no_thread_cancel_exception=True)
