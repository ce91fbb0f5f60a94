# The same blocking handler as blocking.mjs, as a WSGI app for gunicorn:
# time.sleep parks the thread (and releases the GIL) for 10 ms.
import time

BLOCK_SECONDS = 0.010
BODY = b"blocked 10 ms\n"


def app(environ, start_response):
    time.sleep(BLOCK_SECONDS)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]
