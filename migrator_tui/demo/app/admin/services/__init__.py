"""Admin services; each takes the database manager in its constructor."""
