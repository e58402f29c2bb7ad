"""Scale-out on one machine's loopback: PostgreSQL, Redis, nginx, N Rasa nodes, N action servers.

Everything comes from Debian packages (`scripts/system-deps.sh postgresql redis-server
nginx-light`) and the project's venv; no Docker. Used by `make test-scale` (tests/test_scale.py)
and by hand:

    .venv/bin/python -m deploy.cluster up     # start everything, print the addresses, wait for Ctrl-C

Layout (default ports, all on 127.0.0.1):

    nginx :8680 ──round-robin──► Rasa node :5610 ──► action server :5660
                              └► Rasa node :5611 ──► action server :5661
    every node ──► PostgreSQL :5632 (tracker store)  and  Redis :6479 (lock store)

Each Rasa node is started like every other Rasa server of the project, through its runtime
(`python -m bot.rasa_server run …`, built by bot.launcher.rasa_run_cmd).

The data directory is a throw-away temporary one (initdb at each start): this script is the
recipe and the test bed; for a real deployment keep the same endpoints file
(deploy/endpoints-scale.yml) and point BOT_TRACKER_URL / BOT_REDIS_* at managed services.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

from bot import launcher
from bot.config import ROOT, Settings, load_settings

DEPLOY = Path(__file__).resolve().parent


def pg_bin() -> Path:
    """Binaries of the newest PostgreSQL that Debian's `postgresql` package installed (15 on
    Debian 12): not on the PATH, and looked up once the package is there."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


@dataclass
class Ports:
    pg: int = 5632
    redis: int = 6479
    nginx: int = 8680
    rasa: tuple = (5610, 5611)
    actions: tuple = (5660, 5661)


@dataclass
class Cluster:
    ports: Ports = field(default_factory=Ports)
    # Test bed only: no fsync in PostgreSQL (a crash of the machine may lose the last turns).
    fast: bool = True
    # Seconds a dead node's conversation lock blocks that conversation (Rasa default: 60).
    lock_lifetime: int = 30
    run: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bot-scale-")))
    token: str = field(default_factory=lambda: os.environ.get("BOT_AUTH_TOKEN") or uuid.uuid4().hex)
    procs: dict = field(default_factory=dict)  # name -> Popen
    settings: dict = field(default_factory=dict)  # node name -> Settings

    # ---- helpers -------------------------------------------------------------------------
    @property
    def tracker_url(self) -> str:
        return f"postgresql://bot@127.0.0.1:{self.ports.pg}/rasa"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.nginx}"

    def node_url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.ports.rasa[i]}"

    def _log(self, name: str):
        return open(self.run / f"{name}.log", "ab")

    def _as_pg(self, cmd: list) -> list:
        # PostgreSQL refuses to run as root: use its Debian system user then.
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd

    # ---- services ------------------------------------------------------------------------
    def start_postgres(self) -> None:
        data = self.run / "pg"
        data.mkdir()
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(data, pg.pw_uid, pg.pw_gid)
            os.chmod(self.run, 0o755)
        subprocess.run(self._as_pg([str(pg_bin() / "initdb"), "-D", str(data), "-U", "bot", "-A", "trust",
                                    "-E", "UTF8", "--no-sync"]), check=True, stdout=subprocess.DEVNULL)
        opts = (f"-p {self.ports.pg} -c listen_addresses=127.0.0.1 -c unix_socket_directories={data} "
                f"-c max_connections=200" + (" -c fsync=off -c synchronous_commit=off" if self.fast else ""))
        subprocess.run(self._as_pg([str(pg_bin() / "pg_ctl"), "-D", str(data), "-o", opts, "-l",
                                    str(data / "postgres.log"), "-w", "start"]), check=True, stdout=subprocess.DEVNULL)
        subprocess.run([str(pg_bin() / "createdb"), "-h", "127.0.0.1", "-p", str(self.ports.pg), "-U", "bot", "rasa"],
                       check=True)

    def stop_postgres(self) -> None:
        data = self.run / "pg"
        if (data / "postmaster.pid").exists():
            subprocess.run(self._as_pg([str(pg_bin() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start_redis(self) -> None:
        self.procs["redis"] = subprocess.Popen(
            ["redis-server", "--port", str(self.ports.redis), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.run)], stdout=self._log("redis"), stderr=subprocess.STDOUT)
        _wait_port(self.ports.redis, 20, self.procs["redis"])

    def start_nginx(self) -> None:
        tmp = self.run / "nginx-tmp"
        tmp.mkdir(exist_ok=True)
        os.chmod(tmp, 0o777)  # workers run as an unprivileged user when started as root
        # max_fails=0: never mark a node down, just try the next one on error. On loopback or a LAN a
        # dead node costs one refused connection; with max_fails=1, a node merely slow under load
        # got marked down too, and nginx answered 502 "no live upstreams" (found by test-scale).
        # Across machines, where a dead host means connect timeouts, prefer max_fails=3 fail_timeout=10s.
        servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=0;" for p in self.ports.rasa)
        conf = (DEPLOY / "nginx.conf.template").read_text().format(
            run=self.run, servers=servers, port=self.ports.nginx, max_body=load_settings().max_body_bytes)
        (self.run / "nginx.conf").write_text(conf)
        self.procs["nginx"] = subprocess.Popen(
            [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(self.run), "-c", str(self.run / "nginx.conf"),
             "-e", str(self.run / "nginx-error.log"), "-g", "daemon off;"],
            stdout=self._log("nginx"), stderr=subprocess.STDOUT)
        _wait_port(self.ports.nginx, 20, self.procs["nginx"])

    def node_settings(self, i: int) -> Settings:
        return replace(load_settings(), rasa_port=self.ports.rasa[i], action_port=self.ports.actions[i],
                       run_dir=self.run, tracker_url=self.tracker_url, auth_token=self.token)

    def node_env(self, s: Settings) -> dict:
        return {**launcher.server_env(s), "BOT_REDIS_HOST": "127.0.0.1", "BOT_REDIS_PORT": str(self.ports.redis),
                "TICKET_LOCK_LIFETIME": str(self.lock_lifetime),
                # Requests come through nginx: trust one proxy's X-Forwarded-For for the client IP.
                "SANIC_PROXIES_COUNT": "1"}

    def start_rasa_node(self, i: int, model: Path, wait: bool = True) -> subprocess.Popen:
        s = self.node_settings(i)
        cmd = launcher.rasa_run_cmd(s, model, self.token, endpoints=str(DEPLOY / "endpoints-scale.yml"))
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.node_env(s), stdout=self._log(f"rasa{i}"),
                                stderr=subprocess.STDOUT)
        self.procs[f"rasa{i}"] = proc
        if wait:
            launcher.wait_http(s.rasa_url + "/", 300, proc)
        return proc

    def up(self) -> "Cluster":
        try:
            model = launcher.ensure_trained(load_settings())
            self.start_postgres()
            self.start_redis()
            for i in range(len(self.ports.rasa)):
                self.procs[f"actions{i}"] = launcher.start_actions(self.node_settings(i), self._log(f"actions{i}"))
            # Start the nodes together (loading a model takes a while), then wait for each.
            for i in range(len(self.ports.rasa)):
                self.start_rasa_node(i, model, wait=False)
            for i in range(len(self.ports.rasa)):
                s = self.node_settings(i)
                launcher.wait_http(s.rasa_url + "/", 300, self.procs[f"rasa{i}"])
                launcher.warm_up(s, self.token)
            self.start_nginx()
        except BaseException:
            self.down()
            raise
        return self

    def kill(self, name: str) -> None:
        """SIGKILL one process (fault injection): no clean shutdown, like a crashed machine."""
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)

    def down(self, keep_run: bool = False) -> None:
        launcher.stop(*(p for name, p in self.procs.items() if name.startswith(("nginx", "rasa"))))
        launcher.stop(*(p for name, p in self.procs.items() if not name.startswith(("nginx", "rasa"))))
        self.stop_postgres()
        if not keep_run:
            shutil.rmtree(self.run, ignore_errors=True)


def _wait_port(port: int, timeout: float, proc: Optional[subprocess.Popen] = None) -> None:
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with code {proc.returncode} before opening port {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f} s")


def main(argv: list) -> int:
    if argv[:1] != ["up"]:
        print(__doc__)
        return 2
    subprocess.run([str(ROOT / "scripts" / "system-deps.sh"), "postgresql", "redis-server", "nginx-light"], check=True)
    cluster = Cluster(fast=False).up()
    print(f"Ready: {cluster.url}/webhooks/rest/webhook (nginx) → nodes "
          f"{', '.join(cluster.node_url(i) for i in range(len(cluster.ports.rasa)))}; logs in {cluster.run}; "
          f"API token {cluster.token}. Ctrl-C stops everything.", flush=True)
    def on_term(signum, frame):  # SIGTERM stops everything like Ctrl-C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        while all(p.poll() is None for p in cluster.procs.values()):
            time.sleep(1)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.down()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
