"""A TCP gate in its own process: decides the moment "SSH accepts connections".

``python -m bench._gate TARGET_PORT`` binds a port on 127.0.0.1 and prints it. While the
gate is closed the port is bound but not listening, so a connection attempt is refused at
once (as on a booting server whose sshd is not up yet). Commands on stdin, one a line:

``open``   start listening; prints ``opened <time.monotonic()>`` (the kernel clock every
           process shares), then forwards each accepted connection to TARGET_PORT
``close``  stop accepting (connections already forwarded carry on); prints ``closed``
``quit``   exit

It runs apart from the benchmark so that forwarding bytes never competes for the GIL with
the ``deploy_node`` calls being timed.
"""

from __future__ import annotations

import socket
import sys
import threading
import time

HOST = "127.0.0.1"


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


def _forward(client: socket.socket, target: int) -> None:
    try:
        upstream = socket.create_connection((HOST, target), timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


class Gate:
    def __init__(self, target: int) -> None:
        self.target = target
        self.sock = self._bind(0)
        self.port = int(self.sock.getsockname()[1])
        self.accepting: threading.Thread | None = None

    @staticmethod
    def _bind(port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        return sock

    def open(self) -> float:
        self.sock.listen(256)
        opened = time.monotonic()
        sock = self.sock
        self.accepting = threading.Thread(target=self._accept, args=(sock,), daemon=True)
        self.accepting.start()
        return opened

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                client, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=_forward, args=(client, self.target), daemon=True).start()

    def close(self) -> None:
        old = self.sock
        try:
            old.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        old.close()
        if self.accepting is not None:
            self.accepting.join(5)
        self.sock = self._bind(self.port)


def main(argv: list[str]) -> int:
    gate = Gate(int(argv[0]))
    print(gate.port, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "open":
            print(f"opened {gate.open()!r}", flush=True)
        elif command == "close":
            gate.close()
            print("closed", flush=True)
        elif command == "quit":
            break
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
