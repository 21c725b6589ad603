"""Tests of the weekly analysis (onedoor/reports/)."""
