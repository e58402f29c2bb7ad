"""Input channels (referenced by module path in credentials.yml)."""
