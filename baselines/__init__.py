"""Reference agents in submission format, with their training code."""
