"""The running platform the end-to-end tests share, and Python stubs of the contract.

``shared()`` starts the whole platform once per test process (``scripts/platform up`` and
``seed`` in a temporary AGENTPLANE_HOME, with a database of its own) and stops it at exit
(``scripts/platform down``, then the database is dropped and the folder removed).

Environment knobs (all optional):

- ``AGENTPLANE_E2E_BASE_PORT`` (default 7400): the platform's AGENTPLANE_BASE_PORT; change it to
  run two test processes side by side.
- ``AGENTPLANE_E2E_REPLICAS`` (default ``kb-search=2``): the platform's AGENTPLANE_REPLICAS.
- ``AGENTPLANE_E2E_KEEP=1``: keep the temporary AGENTPLANE_HOME (logs) and the database at exit.
- ``AGENTPLANE_CONFIGURATION`` is passed through (``release`` runs the release binaries).

Example::

    import platform_fixture
    p = platform_fixture.shared()
    pb = platform_fixture.stubs()
    channel = p.channel("control")
    token = p.login()
    stub = pb.control_pb2_grpc.AgentServiceStub(channel)
    stub.ListAgents(pb.control_pb2.ListAgentsRequest(), metadata=p.metadata(token))
"""

from __future__ import annotations

import atexit
import importlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLATFORM_SCRIPT = REPO / "scripts" / "platform"
SERVICES = ("control", "execution", "kb-search", "ticketing", "llm-gateway", "notification")

_shared_lock = threading.Lock()
_shared_platform: "Platform | None" = None
_stubs_lock = threading.Lock()
_stubs: types.SimpleNamespace | None = None


def _env_key(service: str) -> str:
    """The prefix a service's keys carry in platform.env (kb-search -> KB_SEARCH)."""
    return service.upper().replace("-", "_")


def _check_service(service: str) -> None:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")


def _process_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (its parent may never reap it)."""
    try:
        with open(f"/proc/{pid}/stat", "r", encoding="utf-8") as stat:
            # The state follows the parenthesised command name, which may itself hold spaces.
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def parse_env_file(path: Path) -> dict[str, str]:
    """Reads the ``KEY=value`` lines scripts/platform writes (values are not quoted)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip()
    return values


class Platform:
    """A platform started by scripts/platform in its own AGENTPLANE_HOME."""

    def __init__(
        self,
        home: Path,
        base_port: int,
        replicas: str,
        db_name: str,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.home = Path(home)
        self.base_port = base_port
        self.replicas = replicas
        self.db_name = db_name
        self.extra_env = dict(extra_env or {})
        self.env: dict[str, str] = {}
        self.agentctl = ""
        self.tenant = ""
        self.email = ""
        self.password = ""
        self._started = False

    # Running the script ---------------------------------------------------------------------

    def script_env(self) -> dict[str, str]:
        """The environment scripts/platform runs with for this platform."""
        env = dict(os.environ)
        env.update(
            AGENTPLANE_HOME=str(self.home),
            AGENTPLANE_BASE_PORT=str(self.base_port),
            AGENTPLANE_REPLICAS=self.replicas,
            AGENTPLANE_DB_NAME=self.db_name,
        )
        env.update(self.extra_env)
        return env

    def run_script(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Runs ``scripts/platform ARGS``; raises with its output when it fails."""
        result = subprocess.run(
            [str(PLATFORM_SCRIPT), *args],
            cwd=REPO,
            env=self.script_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"scripts/platform {' '.join(args)} exited {result.returncode}:\n{result.stdout}"
            )
        return result

    def up(self) -> None:
        """Builds, starts and seeds the platform, then reads platform.env."""
        # The first build on a cold cache takes minutes on two cores.
        self.run_script("up", timeout=3600)
        self._started = True
        self.reload_env()
        self.run_script("seed", timeout=900)

    def reload_env(self) -> None:
        """Reads platform.env again (after up)."""
        self.env = parse_env_file(self.home / "platform.env")
        self.agentctl = self.env.get("AGENTCTL", str(REPO / ".build" / "debug" / "agentctl"))
        self.tenant = self.env["AGENTPLANE_TENANT"]
        self.email = self.env["AGENTPLANE_EMAIL"]
        self.password = self.env["AGENTPLANE_PASSWORD"]

    def down(self) -> None:
        """Stops every service (SIGTERM, then SIGKILL after 20 s)."""
        if self._started:
            self.run_script("down", timeout=120)
            self._started = False

    # Addresses ------------------------------------------------------------------------------

    def addrs(self, service: str) -> list[str]:
        """Every replica's gRPC address of a service, replica 0 first."""
        _check_service(service)
        return [a for a in self.env[f"{_env_key(service)}_ADDR"].split(",") if a]

    def addr(self, service: str, replica: int = 0) -> str:
        """One replica's gRPC address (``127.0.0.1:port``)."""
        return self.addrs(service)[replica]

    def admin_ports(self, service: str) -> list[int]:
        """Every replica's admin HTTP port of a service, replica 0 first."""
        _check_service(service)
        return [int(p) for p in self.env[f"{_env_key(service)}_ADMIN_PORTS"].split(",") if p]

    def admin_url(self, service: str, replica: int = 0, path: str = "/readyz") -> str:
        """The URL of an admin endpoint of one replica."""
        return f"http://127.0.0.1:{self.admin_ports(service)[replica]}{path}"

    # Processes ------------------------------------------------------------------------------

    def _instance(self, service: str, replica: int) -> str:
        _check_service(service)
        return service if replica == 0 else f"{service}-{replica}"

    def pid(self, service: str, replica: int = 0) -> int | None:
        """The process id of a running replica, or None when it is not running."""
        path = self.home / "run" / f"{self._instance(service, replica)}.pid"
        try:
            pid = int(path.read_text(encoding="utf-8").strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _process_alive(pid) else None

    def kill(self, service: str, replica: int = 0, sig: int = signal.SIGKILL) -> None:
        """Kills one replica (SIGKILL by default) and waits until the process is gone."""
        pid = self.pid(service, replica)
        if pid is None:
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 30
        while _process_alive(pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self._instance(service, replica)} (pid {pid}) did not exit")
            time.sleep(0.05)

    def start(self, service: str, replica: int = 0) -> None:
        """Starts one replica again (no-op when it runs) and waits until it is SERVING."""
        self.run_script("start", service, str(replica), timeout=120)

    def log_path(self, service: str, replica: int = 0) -> Path:
        """The log file of one replica."""
        return self.home / "logs" / f"{self._instance(service, replica)}.log"

    def log(self, service: str, replica: int = 0) -> str:
        """The log text of one replica so far (empty when there is none yet)."""
        try:
            return self.log_path(service, replica).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    # Clients --------------------------------------------------------------------------------

    def channel(self, service: str, replica: int = 0):
        """A new insecure grpc channel to one replica (the caller closes it)."""
        import grpc

        return grpc.insecure_channel(self.addr(service, replica))

    def login(self) -> str:
        """Logs the demo owner in through AuthService.Login; returns a fresh access token."""
        pb = stubs()
        with self.channel("control") as channel:
            auth = pb.control_pb2_grpc.AuthServiceStub(channel)
            response = auth.Login(
                pb.control_pb2.LoginRequest(
                    tenant_slug=self.tenant, email=self.email, password=self.password
                ),
                timeout=30,
            )
        return response.tokens.access_token

    @staticmethod
    def metadata(token: str) -> list[tuple[str, str]]:
        """Call metadata carrying a bearer token."""
        return [("authorization", f"Bearer {token}")]

    def agentctl_env(self) -> dict[str, str]:
        """An environment for running agentctl against this platform (config in the home)."""
        env = dict(os.environ)
        env.update(
            AGENTPLANE_SERVER=self.addr("control"),
            AGENTPLANE_TICKETING=self.addr("ticketing"),
            AGENTPLANE_NOTIFICATION=self.addr("notification"),
            AGENTPLANE_CONFIG_DIR=str(self.home / "agentctl"),
            AGENTPLANE_PASSWORD=self.password,
        )
        return env

    def run_agentctl(
        self, *args: str, input: str | None = None, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Runs agentctl with the platform's addresses and config dir (logs in first if needed)."""
        if args[:1] != ("login",) and not (self.home / "agentctl" / "credentials.json").exists():
            self.run_agentctl(
                "login", "--tenant", self.tenant, "--email", self.email, "--password-stdin",
                input=self.password + "\n",
            )
        result = subprocess.run(
            [self.agentctl, *args],
            cwd=REPO,
            env=self.agentctl_env(),
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"agentctl {' '.join(args)} exited {result.returncode}:\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result


def _admin_database_url() -> str:
    """The infra's PostgreSQL URL (database `postgres`), as scripts/infra env prints it."""
    out = subprocess.run(
        [str(REPO / "scripts" / "infra"), "env"], capture_output=True, text=True, check=True
    ).stdout
    for line in out.splitlines():
        if line.startswith("DATABASE_URL="):
            return line.split("=", 1)[1]
    raise RuntimeError("scripts/infra env printed no DATABASE_URL")


def drop_database(name: str) -> None:
    """Drops a database of the infra's PostgreSQL (closing its connections)."""
    subprocess.run(
        ["psql", _admin_database_url(), "-qAtc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        capture_output=True,
        text=True,
        timeout=60,
    )


def shared() -> Platform:
    """The platform of this test process, started (up + seed) on the first call."""
    global _shared_platform
    with _shared_lock:
        if _shared_platform is not None:
            return _shared_platform
        home = Path(tempfile.mkdtemp(prefix="agentplane-e2e-"))
        platform = Platform(
            home=home,
            base_port=int(os.environ.get("AGENTPLANE_E2E_BASE_PORT", "7400")),
            replicas=os.environ.get("AGENTPLANE_E2E_REPLICAS", "kb-search=2"),
            db_name=f"agentplane_e2e_{os.getpid()}",
        )
        atexit.register(_stop_shared, platform)
        try:
            platform.up()
        except BaseException:
            _stop_shared(platform)
            atexit.unregister(_stop_shared)
            raise
        _shared_platform = platform
        return platform


def _stop_shared(platform: Platform) -> None:
    """Stops the shared platform, drops its database and removes its home."""
    keep = os.environ.get("AGENTPLANE_E2E_KEEP", "") not in ("", "0")
    try:
        platform._started = True  # down is harmless when nothing runs
        platform.down()
    except Exception as error:  # at exit there is no one left to raise to
        print(f"platform_fixture: down failed: {error}", file=sys.stderr)
    if keep:
        print(f"platform_fixture: kept {platform.home} and database {platform.db_name}", file=sys.stderr)
        return
    try:
        drop_database(platform.db_name)
    except Exception as error:
        print(f"platform_fixture: dropping {platform.db_name} failed: {error}", file=sys.stderr)
    shutil.rmtree(platform.home, ignore_errors=True)


def stubs() -> types.SimpleNamespace:
    """The Python modules of proto/agentplane/v1, compiled once per process with grpc_tools.

    Attributes are the module names: ``common_pb2``, ``control_pb2``, ``control_pb2_grpc``,
    ``execution_pb2``, ``kb_search_pb2``, ``llm_pb2``, ``notification_pb2``, ``ticketing_pb2``
    (each ``*_pb2_grpc`` too), plus ``health_pb2`` / ``health_pb2_grpc`` of grpc.health.v1.
    """
    global _stubs
    with _stubs_lock:
        if _stubs is not None:
            return _stubs
        import grpc_tools
        from grpc_tools import protoc

        out = Path(tempfile.mkdtemp(prefix="agentplane-stubs-"))
        atexit.register(shutil.rmtree, out, True)
        proto_root = REPO / "proto"
        sources = sorted(
            str(path.relative_to(proto_root))
            for path in (proto_root / "agentplane" / "v1").glob("*.proto")
        )
        well_known = Path(grpc_tools.__file__).parent / "_proto"
        code = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{proto_root}",
                f"-I{well_known}",
                f"--python_out={out}",
                f"--grpc_python_out={out}",
                *sources,
            ]
        )
        if code != 0:
            raise RuntimeError(f"grpc_tools.protoc failed ({code}) for {sources}")
        sys.path.insert(0, str(out))
        namespace = types.SimpleNamespace()
        for source in sources:
            name = Path(source).stem
            for suffix in ("_pb2", "_pb2_grpc"):
                module = importlib.import_module(f"agentplane.v1.{name}{suffix}")
                setattr(namespace, f"{name}{suffix}", module)
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        namespace.health_pb2 = health_pb2
        namespace.health_pb2_grpc = health_pb2_grpc
        _stubs = namespace
        return namespace
