"""Scale-out: 2 Rasa nodes + 2 action servers on PostgreSQL (trackers) and Redis (locks), nginx.

`make test-scale` (marker `scale`, not part of `make test`). Phase 1: 200 concurrent
conversations whose turns alternate between the two nodes, addressed directly (turn 1 on node
0, turn 2 on node 1, …): no lost turn, the formation named on one node carries over to the
other ("et la durée ?"), the tracker holds the turns in order. Phase 2: 200 more conversations
through nginx; one Rasa node is SIGKILLed once a quarter of the turns are done; every turn must
still be answered (nginx moves to the other node) and stored in order.
"""
import asyncio
import random
import subprocess
import time
import uuid
from collections import Counter

import aiohttp
import pytest

from bot.config import ROOT
from deploy.cluster import Cluster

pytestmark = pytest.mark.scale
CONVERSATIONS = 200
LABELS = {"deis": "le DEIS", "but_cs": "le BUT Carrières sociales", "master_cmc": "le master CMC"}
# (text, formation expected in the knowledge answer: True = the conversation's)
SCRIPT = [("Quelles sont les conditions d'admission pour {label} ?", True), ("et la durée ?", True),
          ("et le programme ?", True), ("merci beaucoup", False)]


@pytest.fixture(scope="module")
def cluster():
    subprocess.run([str(ROOT / "scripts" / "system-deps.sh"), "postgresql", "redis-server", "nginx-light"], check=True)
    t = time.perf_counter()
    c = Cluster().up()
    print(f"\ncluster up in {time.perf_counter() - t:.0f} s (logs: {c.run})")
    try:
        yield c
    finally:
        c.down()


class Run:
    def __init__(self):
        self.latencies, self.per_node, self.errors, self.sent = [], Counter(), [], {}

    def summary(self, name: str) -> str:
        lat = sorted(self.latencies)
        pct = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] * 1000  # noqa: E731
        return (f"{name}: {len(self.sent)} conversations, {len(lat)} turns answered, {len(self.errors)} errors; "
                f"latency p50 {pct(0.5):.0f} ms, p95 {pct(0.95):.0f} ms, max {lat[-1] * 1000:.0f} ms; "
                f"turns per target {dict(self.per_node)}")


async def converse(session, run: Run, sender: str, formation: str, targets, on_turn=None):
    run.sent[sender] = []
    for i, (template, check) in enumerate(SCRIPT):
        text = template.format(label=LABELS[formation])
        url = targets[i % len(targets)]
        run.sent[sender].append(text)
        t = time.perf_counter()
        try:
            async with session.post(url + "/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
                status, msgs = r.status, (await r.json() if r.status == 200 else await r.text())
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            run.errors.append(f"{sender} turn {i} on {url}: {type(exc).__name__} {exc}")
            continue
        run.latencies.append(time.perf_counter() - t)
        run.per_node[url] += 1
        if on_turn:
            on_turn()
        if status != 200 or not msgs or not any(m.get("text") for m in msgs):
            run.errors.append(f"{sender} turn {i} on {url}: HTTP {status} {str(msgs)[:200]}")
            continue
        kb = [m["custom"] for m in msgs if isinstance(m.get("custom"), dict) and m["custom"].get("kb_id")]
        if check and not (kb and kb[0]["formation"] == formation):
            run.errors.append(f"{sender} turn {i} on {url} ({text!r}): expected {formation}, got "
                              f"{[k['kb_id'] for k in kb] or msgs[0].get('text', '')[:80]}")


async def run_conversations(targets, prefix: str, on_turn=None) -> Run:
    run, rng = Run(), random.Random(prefix)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=CONVERSATIONS)) as s:
        await asyncio.gather(*(converse(s, run, f"{prefix}-{i}-{uuid.uuid4().hex[:8]}", rng.choice(list(LABELS)),
                                        targets, on_turn) for i in range(CONVERSATIONS)))
    return run


async def check_trackers(url: str, token: str, run: Run) -> list:
    """Each conversation's stored user turns are exactly the ones sent, in order."""
    problems = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120),
                                     connector=aiohttp.TCPConnector(limit=20)) as s:
        async def one(sender, sent):
            async with s.get(f"{url}/conversations/{sender}/tracker", params={"token": token}) as r:
                events = (await r.json())["events"]
            got = [e["text"] for e in events if e["event"] == "user"]
            if got != sent:
                problems.append(f"{sender}: stored {got}, sent {sent}")
        await asyncio.gather(*(one(k, v) for k, v in run.sent.items()))
    return problems


def test_conversations_alternate_between_nodes(cluster):
    nodes = [cluster.node_url(0), cluster.node_url(1)]
    t = time.perf_counter()
    run = asyncio.run(run_conversations(nodes, "alt"))
    print(f"\n{run.summary('alternating nodes')} in {time.perf_counter() - t:.0f} s")
    assert not run.errors, "\n".join(run.errors[:20])
    assert run.per_node[nodes[0]] == run.per_node[nodes[1]] == CONVERSATIONS * len(SCRIPT) // 2
    problems = asyncio.run(check_trackers(nodes[1], cluster.token, run))
    assert not problems, "\n".join(problems[:10])


def test_a_node_killed_mid_run_conversations_go_on_through_nginx(cluster):
    done = {"n": 0, "killed_at": None}
    total = CONVERSATIONS * len(SCRIPT)

    def on_turn():
        done["n"] += 1
        if done["killed_at"] is None and done["n"] >= total // 4:
            done["killed_at"] = done["n"]
            cluster.kill("rasa0")

    t = time.perf_counter()
    run = asyncio.run(run_conversations([cluster.url], "nginx", on_turn))
    print(f"\n{run.summary('through nginx')} in {time.perf_counter() - t:.0f} s; "
          f"node 0 killed after {done['killed_at']} turns")
    assert done["killed_at"] and cluster.procs["rasa0"].poll() is not None
    assert not run.errors, "\n".join(run.errors[:20])
    problems = asyncio.run(check_trackers(cluster.node_url(1), cluster.token, run))
    assert not problems, "\n".join(problems[:10])
    log = (cluster.run / "nginx-error.log").read_text(errors="replace")
    print(f"nginx logged {log.count('upstream')} upstream errors (retried on the other node)")
    with open(cluster.run / "nginx-access.log") as f:
        statuses = Counter(line.split('"')[2].split()[0] for line in f if '"' in line)
    print(f"nginx statuses: {dict(statuses)}")
