"""Tests of whole-stack scenarios: a case through the API, the worker, the register and the simulator, where no one package owns what is checked."""
