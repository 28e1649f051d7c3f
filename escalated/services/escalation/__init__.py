"""Escalation rules: conditions compiled to SQL, actions through the one write path.

* :mod:`.conditions` — the registry of condition fields and operators, compiled to filters;
* :mod:`.actions` — the registry of actions, each a call to a ticket service;
* :mod:`.triggers` — when rules are looked at: by the sweep, or after a change;
* :mod:`.rules` — saving rules (admins), and compiling a stored rule;
* :mod:`.episodes` — firing once per matching episode, safely under concurrency;
* :mod:`.evaluation` — the sweep, event rules, dry runs and previews.
"""
