"""Estates: candidate sites, new places and what-if runs over the same exact allocation."""
