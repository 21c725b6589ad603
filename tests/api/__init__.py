"""Tests of the API's routes and pages (api/)."""
