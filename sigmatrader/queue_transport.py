"""kombu's filesystem transport, made safe for concurrent producers and consumers.

The embedded default (no Redis) queues Celery tasks as files. kombu 5.7's
filesystem channel has two races that matter for orders:

- A producer creates the message file and then writes it; a worker polling in
  between moves away the still-empty file, fails to parse it and stops with
  "Unrecoverable error: JSONDecodeError" (seen by bench/webhook.py with a
  threaded worker under load). Here a message is written under a name the
  reader ignores and renamed into place once complete.
- A consumer claims a file with shutil.move into the system temp folder; when
  that is another filesystem, move is copy-then-delete and two consumers can
  both read the same message. Here a consumer claims with os.rename into a
  folder beside the queue (atomic: exactly one consumer wins).

A file that still cannot be parsed is set aside in `unreadable/` and logged,
never allowed to stop the worker.

Late acknowledgement: a message stays unacknowledged in the consuming worker's
memory until its task ends, and a rejected one (`reject_on_worker_lost`, when a
pool child dies) is written back to the queue (kombu's virtual-channel
restore). The file itself is gone once claimed, so a whole worker killed loses
what it had taken: orders/recovery.py sweeps those orders up.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".part"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # Zero-padded so that the readers' sort by name is oldest first (an
        # unpadded 999_ would sort after 1000_).
        name = f"{int(round(monotonic() * 1000)):015d}_{uuid.uuid4()}.{queue}.msg"
        final = Path(self.data_folder_out) / name
        partial = final.with_name(name + PARTIAL_SUFFIX)  # "<queue>.msg.part": not read
        partial.write_bytes(str_to_bytes(dumps(payload)))
        os.replace(partial, final)

    def _get(self, queue):
        wanted = f"{queue}.msg"
        inbox = Path(self.data_folder_in)
        claimed_dir = inbox.parent / f"{inbox.name}-claimed"
        claimed_dir.mkdir(exist_ok=True)
        for name in sorted(os.listdir(inbox)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = claimed_dir / name
            try:
                os.rename(inbox / name, claimed)
            except OSError:
                continue  # another consumer took it
            payload = claimed.read_bytes()
            try:
                message = loads(bytes_to_str(payload))
            except ValueError:
                unreadable = inbox.parent / f"{inbox.name}-unreadable"
                unreadable.mkdir(exist_ok=True)
                os.replace(claimed, unreadable / name)
                logger.error("Task queue: unreadable message %s set aside in %s", name, unreadable)
                continue
            claimed.unlink()
            return message
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
