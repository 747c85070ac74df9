"""The contract kit behind `make check`: proves that whatever `model.py` and `algorithm.py` are in
apps/ (or given with --model/--algorithm) honour the contracts the framework relies on.

It never imports the apps into its own process: it copies apps/ with the given files into a
temporary folder (`workspace`) and runs each group of checks in a subprocess there (`probe`).
Each check prints `ok  <what>` or `FAIL <file>:<line> <subject>: <problem>. Fix: <one line>`.
The kit is a development tool: no app image copies it.
"""
