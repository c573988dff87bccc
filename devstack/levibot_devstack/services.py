"""Throwaway PostgreSQL 15, Prometheus and Alertmanager on loopback.

Tooling layer (not part of the product): the pytest fixtures and the local demo
start these real servers from Debian's packages, each on a free 127.0.0.1 port
with its state in one directory, and stop them cleanly.
"""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from levibot_devstack.net import free_port, http_ok
from levibot_devstack.processes import Process, require_binary, wait_until

PG_BIN = Path(os.environ.get("LEVIBOT_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass
class PostgresServer:
    """A PostgreSQL 15 cluster made by initdb, trust auth on 127.0.0.1 only."""

    workdir: Path
    port: int = field(default_factory=free_port)
    user: str = "levibot"
    process: Process | None = None

    @property
    def datadir(self) -> Path:
        return self.workdir / "data"

    def dsn_for(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def _owner(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def init(self) -> None:
        if (self.datadir / "PG_VERSION").exists():
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        owner = self._owner()
        if owner:
            pw = pwd.getpwnam(owner)
            os.chown(self.workdir, pw.pw_uid, pw.pw_gid)
        cmd = [
            str(PG_BIN / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        ]
        if owner:
            cmd = ["runuser", "-u", owner, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)

    def start(self, timeout: float = 60) -> PostgresServer:
        self.init()
        argv = [
            str(PG_BIN / "postgres"),
            "-D",
            str(self.datadir),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.workdir}",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=128MB",
        ]
        self.process = Process(argv, self.workdir / "postgres.log", user=self._owner())
        self.process.start()
        wait_until(self._accepting, timeout, f"PostgreSQL on port {self.port}")
        return self

    def _accepting(self) -> bool:
        if self.process is None or not self.process.alive():
            tail = self.process.tail() if self.process else ""
            raise RuntimeError(f"PostgreSQL exited during start-up:\n{tail}")
        cmd = [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(cmd, check=False, capture_output=True).returncode == 0

    def stop(self) -> None:
        if self.process:
            self.process.stop(grace=20, sig=signal.SIGINT)  # "fast" shutdown

    def create_database(self, name: str) -> str:
        cmd = [
            str(PG_BIN / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            self.user,
            name,
        ]
        subprocess.run(cmd, check=True, capture_output=True)
        return self.dsn_for(name)


@dataclass
class _PromServer:
    """What Prometheus and Alertmanager share: one YAML config in ``workdir``, a loopback port,
    ``/-/ready`` once started and ``/-/reload`` to load a new config."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None
    title: ClassVar[str]  # names the server in errors: "Prometheus"
    stem: ClassVar[str]  # names its config and log files: "prometheus"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.workdir / f"{self.stem}.yml"

    def write_config(self, text: str) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(text)

    def build_argv(self) -> list[str]:
        raise NotImplementedError

    def launch(self, timeout: float) -> None:
        """Starts the server on its written config and waits until it is ready."""
        self.process = Process(self.build_argv(), self.workdir / f"{self.stem}.log")
        self.process.start()
        wait_until(lambda: http_ok(f"{self.url}/-/ready"), timeout, f"{self.title} ready")

    def reload(self, config: str) -> None:
        """Writes a new configuration and asks the server to load it."""
        self.write_config(config)
        req = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            if resp.status != 200:
                raise RuntimeError(f"{self.title} reload failed: {resp.status}")

    def stop(self) -> None:
        if self.process:
            self.process.stop()


@dataclass
class PrometheusServer(_PromServer):
    """Prometheus with lifecycle API (config reload) and a short scrape interval."""

    title: ClassVar[str] = "Prometheus"
    stem: ClassVar[str] = "prometheus"

    def build_argv(self) -> list[str]:
        return [
            require_binary("prometheus"),
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
            "--log.level=warn",
        ]

    def start(self, config: str | None = None, timeout: float = 60) -> PrometheusServer:
        if config is not None or not self.config_path.exists():
            self.write_config(config or "global:\n  scrape_interval: 1s\n")
        self.launch(timeout)
        return self


@dataclass
class AlertmanagerServer(_PromServer):
    """Alertmanager without clustering, with fast grouping for tests and demos."""

    title: ClassVar[str] = "Alertmanager"
    stem: ClassVar[str] = "alertmanager"

    def build_argv(self) -> list[str]:
        return [
            require_binary("prometheus-alertmanager"),
            f"--config.file={self.config_path}",
            f"--storage.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]

    def start(self, config: str, timeout: float = 60) -> AlertmanagerServer:
        self.write_config(config)
        self.launch(timeout)
        return self
