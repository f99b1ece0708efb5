"""Cut a trace down to the entries that reproduce one finding."""
