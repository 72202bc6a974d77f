"""The one synthetic fleet, for the demo, the tests and the benchmarks (imports only the model).

- ``pc``: a synthetic PC as facts (``Pc``, with its local settings ``Local``);
- ``draw``: PCs drawn from a seeded generator at the explicit rates of a ``Profile``;
- ``report``: a PC as the HostReport the Python agent sends (``render_report``);
- ``capture``, ``capture_parts``: a PC as the raw capture ``collect.ps1`` prints (``render_capture``);
- ``inventory``: a real office PC's inventory added to a capture (``full_size``), for benchmarks;
- ``truth``: the headline numbers counted from the draws;
- ``samples``: quick fleets and documents for tests and benchmarks.
"""
