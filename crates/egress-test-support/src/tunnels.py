"""Many idle tunnels through an HTTP proxy, each side in its own process.

    python3 tunnels.py origin
        Listens on 127.0.0.1 (a free port, printed as `port N`), accepts
        every connection and holds it open, echoing what it gets.
    python3 tunnels.py clients PROXY_PORT HOST:PORT N
        Opens N connections to the proxy on 127.0.0.1:PROXY_PORT, sends
        each a CONNECT for HOST:PORT, and once every one has its 200,
        prints `held N` and holds them until its standard input closes.

Each raises its own open-file limit to 20,000 (the hard limit allowing).
"""

import asyncio
import resource
import sys


def raise_file_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 20000 if hard == resource.RLIM_INFINITY else min(20000, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def origin():
    async def hold(reader, writer):
        try:
            while data := await reader.read(4096):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0, backlog=4096)
    print("port", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


async def clients(proxy_port, target, n):
    gate = asyncio.Semaphore(100)
    held = []

    async def one():
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
            writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"CONNECT refused: {head!r}")
            # One round trip through the tunnel: the origin is reached.
            writer.write(b"ping")
            if await reader.readexactly(4) != b"ping":
                raise SystemExit("no echo through the tunnel")
            held.append(writer)

    await asyncio.gather(*(one() for _ in range(n)))
    print("held", len(held), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for writer in held:
        writer.close()


def main():
    raise_file_limit()
    if sys.argv[1] == "origin":
        asyncio.run(origin())
    else:
        asyncio.run(clients(int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))


if __name__ == "__main__":
    main()
