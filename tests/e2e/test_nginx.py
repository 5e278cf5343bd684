"""deploy/nginx/ajam-gateway.conf on real nginx, in front of two real gateway
processes (node ids ``a`` and ``b``) and the simulated Asterisk.

20 clients log in through nginx and are spread over both instances; every
later request reaches the client's own instance (any other would answer
``Permission denied``), whether the session travels as a quoted cookie, an
unquoted cookie or a ``mansession_id`` parameter; digest requests follow
their nonce; every client's waitevent loop gets every event.  Then ``a``
gets SIGTERM: its clients get an empty poll reply, then ``Permission
denied``, and log in again through nginx (on ``b``), while ``b``'s clients
see no error at all.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import signal

from tests.support.nginxcluster import Client, Cluster

CLIENTS = 20
STYLES = ("quoted", "plain", "param")
EMPTY_POLL = (
    "Response: Success\r\nMessage: Waiting for Event completed.\r\n\r\n"
    "Event: WaitEventComplete\r\n\r\n"
)
DENIED = "Response: Error\r\nMessage: Permission denied\r\n\r\n"
TICK = (("Event", "UserEvent"), ("Privilege", "user,all"), ("UserEvent", "Tick"))
SEQ = re.compile(r"\r\nSeq: (\d+)\r\n")


async def poll_loop(cluster: Cluster, client: Client) -> None:
    """A client's waitevent loop; on ``Permission denied`` it logs in again."""
    while True:
        status, body, _ = await cluster.get(client, action="waitevent", timeout="20")
        client.replies.append((status, body))
        client.seen.extend(int(seq) for seq in SEQ.findall(body))
        if body == DENIED:
            await cluster.login(client)


async def until(condition: object, what: str, timeout: float = 10.0) -> None:
    assert callable(condition)
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out waiting until {what}") from None


async def test_logins_spread_sessions_stick_and_a_drain_moves_clients(cluster: Cluster) -> None:
    clients = [Client(STYLES[n % len(STYLES)]) for n in range(CLIENTS)]
    for client in clients:
        await cluster.login(client)
    on = {node: [c for c in clients if c.node == node] for node in ("a", "b")}
    assert len(on["a"]) + len(on["b"]) == CLIENTS
    assert len(on["a"]) >= 5  # round robin: 10 and 10
    assert len(on["b"]) >= 5

    for _ in range(3):  # only the owning instance knows the session
        answers = await asyncio.gather(*(cluster.get(c, action="ping") for c in clients))
        assert all(body.startswith("Response: Success\r\nPing: Pong\r\n") for _, body, _ in answers)

    await check_digest_routing(cluster)
    async with cluster.http.get(f"{cluster.nginx.base}/metrics") as scraped:
        assert scraped.status == 404  # metrics stay off the public side

    loops = [asyncio.create_task(poll_loop(cluster, c)) for c in clients]
    try:
        await events_reach_everyone(cluster, clients, range(1, 6))
        for node, group in on.items():  # every loop is parked in a held waitevent again
            await cluster.gateways[node].wait_polls(len(group))

        cluster.gateways["a"].send(signal.SIGTERM)
        code = await cluster.gateways["a"].wait(10)
        assert code == 0, cluster.gateways["a"].log()
        await until(lambda: all(len(c.nodes) == 2 for c in on["a"]), "a's clients logged in again")
        await events_reach_everyone(cluster, clients, range(6, 11))
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)

    for client in on["a"]:
        assert client.nodes == ["a", "b"]
        ends = [body for _, body in client.replies if body in (EMPTY_POLL, DENIED)]
        assert ends == [EMPTY_POLL, DENIED]
    for client in on["b"]:
        assert client.nodes == ["b"]
        assert not [body for _, body in client.replies if not ok(body)]  # no error at all
    assert all(status == 200 for c in clients for status, _ in c.replies)  # never a 502
    assert [m.name for m in cluster.sim.received].count("Logoff") == 1  # a's clean goodbye
    access = (cluster.nginx.prefix / "ajam-access.log").read_text()
    assert "GET /asterisk/rawman" in access
    assert "admin-secret" not in access  # nginx's own log keeps no secret


def ok(body: str) -> bool:
    """A reply with events: no error, and not the empty reply of a drain."""
    return body.startswith("Response: Success\r\n") and body != EMPTY_POLL


async def events_reach_everyone(cluster: Cluster, clients: list[Client], seqs: range) -> None:
    for seq in seqs:
        cluster.emit(seq)
        await asyncio.sleep(0.02)
    wanted = set(seqs)
    await until(lambda: all(wanted <= set(c.seen) for c in clients), f"events {seqs} arrived")
    for client in clients:
        assert sorted(s for s in client.seen if s in wanted) == list(seqs)  # each exactly once


async def check_digest_routing(cluster: Cluster) -> None:
    """A Digest request goes to the instance its nonce names (seen in its access log)."""
    for node in ("a", "b"):
        nonce = node + secrets.token_hex(16)
        header = (
            f'Digest username="admin", realm="asterisk", nonce="{nonce}", '
            f'uri="/asterisk/rawman", response="{"0" * 32}"'
        )
        for n in range(4):
            url = f"{cluster.nginx.base}/asterisk/rawman?action=ping&probe=digest{node}{n}"
            async with cluster.http.get(url, headers={"Authorization": header}) as response:
                assert response.status == 200
    gateways = cluster.gateways
    await until(  # the access log line is written after the reply
        lambda: all(g.log().count(f"probe=digest{n}") == 4 for n, g in gateways.items()),
        "each instance logged its own four digest requests",
    )
    assert "probe=digestb" not in gateways["a"].log()
    assert "probe=digesta" not in gateways["b"].log()
