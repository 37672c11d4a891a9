"""Start moto single-threaded on 127.0.0.1:PORT.

moto's default server answers requests on threads with no lock around DynamoDB condition checks,
so two conditional puts on one key can both win under contention (DynamoDB itself never lets that
happen). Serving one request at a time restores DynamoDB's semantics; concurrency stays real on
the client side, where clients queue.
"""
import sys

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

if __name__ == "__main__":
    run_simple(
        "127.0.0.1",
        int(sys.argv[1]),
        DomainDispatcherApplication(create_backend_app),
        threaded=False,
        request_handler=MotoRequestHandler,
    )
