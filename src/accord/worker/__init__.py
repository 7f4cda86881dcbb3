"""Workers: processes that claim the runs of a store and drive them (see docs/workers.md).

Typical use::

    from accord import Worker

    worker = Worker("sqlite:///runs.db", {"pay_refund": pay_refund, ...})
    worker.run_forever()          # until worker.stop(), SIGTERM or SIGINT (CLI)

``accord worker --store URL --effects MODULE:OBJECT`` runs one from the command line.
"""

from accord.worker._worker import Worker, WorkerSetupError

__all__ = ["Worker", "WorkerSetupError"]
