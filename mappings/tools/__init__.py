"""Maintenance scripts that derive the package's data files from official schemas."""
