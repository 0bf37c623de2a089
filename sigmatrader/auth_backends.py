"""django-axes' backend, tolerant of `authenticate()` calls that carry no request.

Every sign-in through a page passes its request and is throttled. A call without
one (Django's test client `login()`, a script) has no address to count and
goes straight to the next backend instead of raising."""

from axes.backends import AxesStandaloneBackend


class SignInThrottleBackend(AxesStandaloneBackend):
    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
