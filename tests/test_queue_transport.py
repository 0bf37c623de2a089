"""The embedded task queue (kombu's filesystem transport, hardened): under
concurrent producers and consumers every message is delivered exactly once,
and a corrupt file is set aside instead of stopping the worker."""

import multiprocessing
import threading

from kombu import Connection

from sigmatrader.queue_transport import Transport


def connection(folder):
    return Connection(
        "filesystem://",
        transport=Transport,
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder.parent / "control"),
            "store_processed": False,
        },
    )


def test_concurrent_producers_and_consumers_deliver_each_message_once(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    # Producers are processes, as gunicorn's workers are for the Celery worker.
    producers, per_producer, consumers = 4, 400, 4
    received, errors, lock = [], [], threading.Lock()
    done = threading.Event()

    def produce(index):
        with connection(folder) as conn:
            queue = conn.SimpleQueue("orders")
            for n in range(per_producer):
                queue.put({"id": f"{index}-{n}", "pad": "x" * 200_000})

    def consume():
        try:
            with connection(folder) as conn:
                queue = conn.SimpleQueue("orders")
                while not (done.is_set() and not any(folder.iterdir())):
                    try:
                        message = queue.get(timeout=0.05)
                    except queue.Empty:
                        continue
                    with lock:
                        received.append(message.payload["id"])
                    message.ack()
        except Exception as exc:  # noqa: BLE001 (the test reports it)
            errors.append(exc)

    readers = [threading.Thread(target=consume) for _ in range(consumers)]
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=produce, args=(i,)) for i in range(producers)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in readers:
        thread.join(timeout=30)

    assert errors == []
    assert len(received) == producers * per_producer
    assert len(set(received)) == producers * per_producer


def test_a_corrupt_message_is_set_aside_and_the_next_one_delivered(tmp_path, caplog):
    # A queue name of its own: kombu remembers declared bindings per transport
    # class for the whole process, and this test's control folder is new.
    folder = tmp_path / "queue"
    folder.mkdir()
    (folder / "1_broken.alerts.msg").write_bytes(b"")
    with connection(folder) as conn:
        queue = conn.SimpleQueue("alerts")
        queue.put({"id": "good"})
        message = queue.get(timeout=2)
        assert message.payload == {"id": "good"}
        message.ack()
    assert (tmp_path / "queue-unreadable" / "1_broken.alerts.msg").exists()
    assert "unreadable message 1_broken.alerts.msg" in caplog.text
    assert not list(folder.iterdir())
