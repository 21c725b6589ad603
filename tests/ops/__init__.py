"""Tests of the embedded stack, the image and docker compose (onedoor/ops/, Dockerfile, docker-compose.yml)."""
