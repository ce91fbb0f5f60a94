# bench/apps/large.mjs as a WSGI app: 100 KB responses.
BODY = (b"corral " * 20000)[: 100 * 1024]


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]
