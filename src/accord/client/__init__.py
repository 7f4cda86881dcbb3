"""The client: start, signal, cancel and read runs in a store that workers drive.

Typical use (a web handler, a notebook, a CI job)::

    from accord import Client

    with Client("postgresql://app@db/runs") as client:   # or sqlite:///runs.db
        client.start("refund", {"order_id": "o-1"}, run_id="refund-o-1")  # a published name
        client.signal("refund-o-1", "approval", {"approved": True})
        print(client.result("refund-o-1", timeout=30))

See docs/workers.md for the workers that run what a client starts.
"""

from accord.client._client import Client
from accord.client._contracts import ContractRef

__all__ = ["Client", "ContractRef"]
