"""What a project keeps on disk: settings, migration layout, env.py, metadata."""
