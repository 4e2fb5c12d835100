"""The transaction coordinator: producer ids, transaction states, markers, timeouts."""
