"""Request and response bodies, kept apart."""
