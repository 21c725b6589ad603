"""Tests of the register (onedoor/store/): its schema, migrations and sealed columns."""
