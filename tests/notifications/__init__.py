"""Tests of the notification port and its adapters (onedoor/notifications/)."""
