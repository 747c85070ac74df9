"""The batch worker: claims jobs from the job store, runs the batch algorithm, stores results.

`python -m worker --drain` (the container's default) works until the queue has been empty for
WORKER_IDLE_SECONDS, then exits; `--watch` never exits and restarts itself when its code
changes; `--once` claims at most one job. The algorithm is the module `worker.algorithm`
(or WORKER_ALGORITHM), with the interface in `worker.interface`.
"""
