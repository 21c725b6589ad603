"""Durable processes: one DisputeCaseWorkflow per case. Deterministic code only: rules come from domain/."""
