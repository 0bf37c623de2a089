from celery import shared_task


@shared_task(name="sigmatrader.ping")
def ping(value: str = "pong") -> dict:
    """Answers through the task queue: proves a worker consumes what we publish."""
    return {"echo": value}
