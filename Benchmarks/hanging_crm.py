#!/usr/bin/env python3
"""hanging_crm.py PORT: a CRM that accepts every connection, reads the request and never answers.

Connections are held open (never closed) until the process is killed, so a lookup against it can
only end by the source's own timeout.
"""
import selectors
import socket
import sys

listener = socket.create_server(("127.0.0.1", int(sys.argv[1])), backlog=128)
listener.setblocking(False)
selector = selectors.DefaultSelector()
selector.register(listener, selectors.EVENT_READ)
held = []
while True:
    for key, _ in selector.select():
        if key.fileobj is listener:
            connection, _ = listener.accept()
            connection.setblocking(False)
            held.append(connection)
            selector.register(connection, selectors.EVENT_READ)
        else:
            try:
                data = key.fileobj.recv(65536)
            except OSError:
                data = b""
            if not data:  # the client gave up: forget the socket
                selector.unregister(key.fileobj)
                key.fileobj.close()
                held.remove(key.fileobj)
