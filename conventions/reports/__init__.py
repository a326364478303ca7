"""What the read-only commands show: status, drift, one table."""
