"""Data sets the tests insert."""
