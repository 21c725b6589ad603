"""Tests of the console (api/console/): each role's pages, over HTTP and in Chromium."""
