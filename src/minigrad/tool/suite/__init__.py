"""``minigrad suite``: one run file trained on many bAbI tasks and seeds.

* ``plan``: the suite's runs and folder, and which runs are finished;
* ``run``: training the unfinished ones and writing the suite's files;
* ``workers``: the child processes that train runs (``serve`` is their side);
* ``local``, ``mpi``: handing runs out on this machine, or over the ranks of an MPI job;
* ``report``: results, seed selection and summaries beside the published results;
* ``baselines``: the published columns (``baselines.yaml``), checked against their printed summaries, and
  which a suite shows (``--columns``);
* ``view``: the live table or the log lines that show progress.
"""
