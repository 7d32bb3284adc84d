"""What the command line shows: rich tables (``tables``), a recorded graph as a
tree or DOT (``graph``, ``tree``), and plots of runs and suites (``plot``)."""
