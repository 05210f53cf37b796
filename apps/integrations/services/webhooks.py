"""MLflow's webhooks: verified, deduplicated by delivery id, and handed to a worker.

Owned by the webhook work of issue #12 (to be written). Contract:

- ``delivery_receive(*, connection, headers, body) -> InboundDelivery``: verify signature and
  timestamp, refuse replays, store once per delivery id, enqueue ``process_delivery`` after commit.
- ``delivery_process(delivery_id) -> None``: re-read what the event names (``sync.sync_model``).
"""

from __future__ import annotations
