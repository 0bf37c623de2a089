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


def produce(folder, index, per_producer):
    """One producer process: a module-level function, so that a spawned child
    can import it."""
    with connection(folder) as conn:
        queue = conn.SimpleQueue("orders")
        for n in range(per_producer):
            queue.put({"id": f"{index}-{n}", "pad": "x" * 200_000})


def test_concurrent_producers_and_consumers_deliver_each_message_once(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    # Producers are processes, as gunicorn's workers are for the Celery worker.
    producers, per_producer, consumers = 4, 400, 4
    received, errors, lock = [], [], threading.Lock()
    done = threading.Event()

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

    # Spawned, not forked: a fork copies whatever lock another thread of this
    # process holds at that instant (the consumers here, a live server left by
    # an earlier test), and the child can wait on it for ever. CI hung so.
    context = multiprocessing.get_context("spawn")
    writers = [
        context.Process(target=produce, args=(folder, i, per_producer)) for i in range(producers)
    ]
    readers = [threading.Thread(target=consume, daemon=True) for _ in range(consumers)]
    for worker in writers + readers:
        worker.start()
    try:
        for writer in writers:
            writer.join(timeout=120)
        assert [writer.exitcode for writer in writers] == [0] * producers
    finally:
        for writer in writers:
            if writer.is_alive():
                writer.kill()
        done.set()
    for thread in readers:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in readers)

    assert errors == []
    assert len(received) == producers * per_producer
    assert len(set(received)) == producers * per_producer


def test_a_corrupt_message_is_set_aside_and_the_next_one_delivered(tmp_path, caplog):
    # A queue name of its own: kombu remembers declared bindings per transport
    # class for the whole process, and this test's control folder is new.
    folder = tmp_path / "queue"
    folder.mkdir()
    broken = f"{0:015d}_broken.alerts.msg"  # the oldest possible name: read first
    (folder / broken).write_bytes(b"")
    with connection(folder) as conn:
        queue = conn.SimpleQueue("alerts")
        queue.put({"id": "good"})
        message = queue.get(timeout=2)
        assert message.payload == {"id": "good"}
        message.ack()
    assert (tmp_path / "queue-unreadable" / broken).exists()
    assert f"unreadable message {broken}" in caplog.text
    assert not list(folder.iterdir())


def test_messages_are_read_oldest_first_across_a_change_in_digit_count(tmp_path, monkeypatch):
    import sigmatrader.queue_transport as queue_transport

    folder = tmp_path / "queue"
    folder.mkdir()
    clock = iter([9.999, 10.000])  # 9999 ms, then 10000 ms: one digit more
    monkeypatch.setattr(queue_transport, "monotonic", lambda: next(clock))
    with connection(folder) as conn:
        queue = conn.SimpleQueue("fifo")
        queue.put({"id": "first"})
        queue.put({"id": "second"})
        got = [queue.get(timeout=2) for _ in range(2)]
        for message in got:
            message.ack()
    assert [message.payload["id"] for message in got] == ["first", "second"]
