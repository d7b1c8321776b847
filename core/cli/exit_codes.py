"""The CLI's exit codes, in a module of their own so start-up can use them before the engine (torch) is imported."""

EXIT_BAD_INPUT = 2  # bad input, a refused file, a fault while writing: one "error: …" line
EXIT_INTERRUPTED = 130  # Ctrl-C: the run stopped (a result so far is still written) or start-up was interrupted
