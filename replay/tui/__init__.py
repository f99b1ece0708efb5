"""``replay tui``: time travel through a trace in the terminal (textual, an optional extra)."""
