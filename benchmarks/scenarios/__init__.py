"""One module per scenario: each has a `run` that measures and a table that prints it."""
