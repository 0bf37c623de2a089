from django.conf import settings


def client_ip(request) -> str | None:
    """The caller's address; X-Forwarded-For only when a proxy is configured."""
    if request is None:
        return None
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            # The proxy appends the address it saw last; earlier entries are client-supplied.
            return forwarded.split(",")[-1].strip()[:45]
    return request.META.get("REMOTE_ADDR")
