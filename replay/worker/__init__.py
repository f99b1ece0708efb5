"""The worker side: each worker's own state machine, from what a cluster dump holds.

* :mod:`~replay.worker.findings`: what every worker check reports (which worker, which stimulus);
* :mod:`~replay.worker.model`: the model replay of a worker's ``log`` (tables per release, rules);
* :mod:`~replay.worker.reexecute`: the real re-execution of its ``stimulus_log`` through the
  ``WorkerState`` of a ``distributed`` release (an optional extra, never imported at start);
* :mod:`~replay.worker.reconcile`: the scheduler's view of each key against each worker's.
"""
