"""Where the stages are joined (DESIGN.md: the wiring; ``secscan/cli.py`` is its click group).

A stage never imports another stage that DESIGN's table does not allow it; the commands that need
two stages at once live here, one module per command family:

- ``collector``: ``secscan collector`` with the agent's Windows decoder and the policy stage's
  judgement handed to the collector as functions (import, watch, redecode, evaluate, serve), and
  org.yaml read by the policy stage (init);
- ``report``: ``secscan report`` reading its input from the collector's store, and ``sample``
  (the demo district as a report input);
- ``scan``: ``secscan scan``, which checks its targets against org.yaml read by the policy stage;
- ``demo``: ``secscan demo``, handing the demo a way to run secscan commands.

``tests/test_imports.py`` holds every stage to the table; this package may import any of them.
"""
