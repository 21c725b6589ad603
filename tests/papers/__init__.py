"""Tests of a case's papers (onedoor/papers/), read back from their PDFs."""
