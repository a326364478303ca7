from conventions.cli import entry

entry()
