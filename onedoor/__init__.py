"""onedoor's own code beside the workflows, activities, API and worker at the repository's top: the pure
rules (domain), the register (store), settings, logs, the payload codec and signatures, notifications,
reports, the department simulator, the command line and the embedded stack (ops). One installed name,
so nothing of ours is called `settings` or `logs` beside other projects' modules."""
