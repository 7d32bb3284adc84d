"""The command-line tool built on the framework: ``minigrad train``, ``predict``, ``suite``, ...

Nothing in the framework (``minigrad.tensor`` up to ``minigrad.models``)
imports this package; it alone needs typer, rich, pydantic and PyYAML.

* ``cli``: the commands, which parse options, call the modules below and print;
* ``config/``: run files (schema, loading, ``--set``, the bundled ones);
* ``session``, ``training``, ``evaluation``: a run built from its config, its loop, its scores;
* ``runs``, ``run_list``, ``per_task``: run folders, listing them, per-task errors;
* ``predict``: answering from a trained run;
* ``distributed``: data-parallel training over MPI;
* ``suite/``: many tasks and seeds of one run file;
* ``views/``: tables, graphs and plots.
"""
