"""Checks of compose/: compose.yaml, the env files, prometheus.yml and the Dockerfile.

Docker is not needed: the files are parsed and checked against the rest of the repository
(the keys docs/CONFIGURATION.md documents, the executables Package.swift declares), against
the Compose Specification's JSON schema (vendored by the check-jsonschema package), and against
the services themselves (each binary is started with its compose environment, stopping at the
unreachable database, to see it accept its keys). The edge, the public HTTP door, is checked
apart from the gRPC services: it has no database, so its binary is started with its compose
environment until its /readyz answers, then stopped with SIGTERM.
"""

from __future__ import annotations

import base64
import functools
import importlib.resources
import json
import os
import pathlib
import re
import secrets
import shlex
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "compose"
SERVICES = ("control", "execution", "kb-search", "ticketing", "llm-gateway", "notification")
INTEGRATIONS = ("execution", "kb-search", "ticketing", "llm-gateway", "notification")
INFRASTRUCTURE = ("postgres", "redis", "prometheus")
# The public HTTP door: not a gRPC service (no database, no gRPC port), checked on its own.
EDGE = "edge"
# Where `make run` (scripts/platform) serves the edge: AGENTPLANE_EDGE_URL's default.
EDGE_HOST_PORT = 7100
KEY_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")


@functools.cache
def compose() -> dict:
    """compose.yaml as data (YAML merge keys resolved by the parser)."""
    with open(COMPOSE_DIR / "compose.yaml", encoding="utf-8") as file:
        return yaml.safe_load(file)


def parse_env_file(path: pathlib.Path) -> dict[str, str]:
    """A `.env` file as the services' CONFIG_FILE reader and compose read it: KEY=VALUE lines,
    comments, an optional `export `, quoted values."""
    values = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise AssertionError(f"{path.name}:{number}: not KEY=VALUE: {raw!r}")
        value = value.strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            end = value.find(quote, 1)
            if end < 0:
                raise AssertionError(f"{path.name}:{number}: unterminated quote")
            value = value[1:end]
        else:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def service_environment(name: str) -> dict[str, str]:
    """The environment compose gives a service: its env_files, then its `environment`."""
    service = compose()["services"][name]
    env: dict[str, str] = {}
    env_files = service.get("env_file", [])
    if isinstance(env_files, (str, dict)):
        env_files = [env_files]
    for entry in env_files:
        path = entry["path"] if isinstance(entry, dict) else entry
        env.update(parse_env_file(COMPOSE_DIR / path))
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    env.update({key: "" if value is None else str(value) for key, value in environment.items()})
    return env


@functools.cache
def documented_keys() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """The keys docs/CONFIGURATION.md documents: (the common ones of `## Keys`, each service's
    own section). A `KEY` whose row also names `_FILE` may be given as `KEY_FILE` too."""
    text = (REPO / "docs" / "CONFIGURATION.md").read_text(encoding="utf-8")
    sections: dict[str, set[str]] = {}
    heading = ""
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            continue
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        first_cell = line.split("|")[1]
        keys = sections.setdefault(heading, set())
        last_key = None
        for token in re.findall(r"`([^`]+)`", first_cell):
            if token == "_FILE" and last_key:
                keys.add(last_key + "_FILE")
            elif KEY_PATTERN.match(token) and token != "KEY":
                keys.add(token)
                last_key = token
    common = frozenset(sections.get("Keys", set()))
    per_service = {name: frozenset(sections.get(name, set())) for name in SERVICES + (EDGE,)}
    return common, per_service


def mounted_secrets(name: str) -> dict[str, str]:
    """The secrets a service mounts: name → path in the container (compose's default target
    is /run/secrets/<name>)."""
    mounted = {}
    for entry in compose()["services"][name].get("secrets", []):
        if isinstance(entry, str):
            entry = {"source": entry}
        target = entry.get("target", entry["source"])
        mounted[entry["source"]] = target if target.startswith("/") else f"/run/secrets/{target}"
    return mounted


def parse_duration(text: str) -> float:
    """A compose or configuration duration (`20s`, `1m30s`, `500ms`, plain seconds) in seconds."""
    text = str(text).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise AssertionError(f"{text!r} is not a duration")
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 0.000001}
    return sum(float(number) * scale[unit] for number, unit in parts)


def edge_configuration_keys() -> set[str]:
    """The keys Sources/Services/Edge/EdgeConfiguration.swift reads: the literal ones, `_FILE`
    of its secret, and the peers' `*_ADDR` (PeerService.environmentKey)."""
    source = (REPO / "Sources" / "Services" / "Edge" / "EdgeConfiguration.swift").read_text(encoding="utf-8")
    keys = set(re.findall(r'reader\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', source))
    keys |= set(re.findall(r'duration\(\s*&reader,\s*"([A-Z][A-Z0-9_]*)"', source))
    keys |= {key + "_FILE" for key in re.findall(r'reader\.secret\(\s*"([A-Z][A-Z0-9_]*)"', source)}
    keys |= {name.upper().replace("-", "_") + "_ADDR" for name in SERVICES}
    return keys


def published_ports(name: str) -> list[tuple[str, int, int]]:
    """A service's published ports as (host address, host port, container port)."""
    found = []
    for entry in compose()["services"][name].get("ports", []):
        if isinstance(entry, dict):
            found.append((entry.get("host_ip", ""), int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).split(":")
        if len(parts) == 3:
            found.append((parts[0], int(parts[1]), int(parts[2])))
        elif len(parts) == 2:
            found.append(("", int(parts[0]), int(parts[1])))
        else:
            raise AssertionError(f"{name}: port {entry!r} is not published on a fixed host port")
    return found


def edge_healthcheck_script(admin_port: int | str) -> str:
    """The bash script of the edge's compose healthcheck, as the container runs it (compose
    turns `$$` into `$`), aimed at `admin_port` instead of the compose one."""
    test = compose()["services"][EDGE]["healthcheck"]["test"]
    script = test[3].replace("$$", "$")
    compose_port = service_environment(EDGE)["ADMIN_PORT"]
    return script.replace(f"/dev/tcp/127.0.0.1/{compose_port}", f"/dev/tcp/127.0.0.1/{admin_port}")


def split_address(address: str) -> tuple[str, int]:
    """`host:port` as (host, port)."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit():
        raise AssertionError(f"{address!r} is not host:port")
    return host, int(port)


class ComposeFileTests(unittest.TestCase):
    """compose.yaml: services, replicas, environment, health checks, dependencies, peers."""

    def test_every_service_and_the_infrastructure_exist(self):
        services = compose()["services"]
        for name in SERVICES + (EDGE,) + INFRASTRUCTURE:
            self.assertIn(name, services, f"compose.yaml has no service {name}")

    def test_integrations_run_at_least_two_replicas(self):
        for name in INTEGRATIONS:
            replicas = compose()["services"][name].get("deploy", {}).get("replicas", 1)
            self.assertGreaterEqual(replicas, 2, f"{name} runs {replicas} replica(s)")

    def test_every_service_sets_the_required_keys(self):
        for name in SERVICES:
            env = service_environment(name)
            for key in ("PORT", "ADMIN_PORT", "DATABASE_URL", "REDIS_URL"):
                self.assertTrue(env.get(key), f"{name} has no {key}")
            self.assertTrue(
                env.get("JWT_SECRET") or env.get("JWT_SECRET_FILE"), f"{name} has no JWT_SECRET(_FILE)"
            )
            self.assertTrue(env["DATABASE_URL"].startswith(("postgres://", "postgresql://")))
            self.assertTrue(env["REDIS_URL"].startswith("redis://"))

    def test_database_and_redis_urls_name_the_compose_services(self):
        postgres = compose()["services"]["postgres"]
        postgres_env = {}
        for path in postgres.get("env_file", []):
            postgres_env.update(parse_env_file(COMPOSE_DIR / path))
        postgres_env.update(postgres.get("environment", {}))
        for name in SERVICES:
            env = service_environment(name)
            database = re.match(r"postgres(?:ql)?://([^:@/]+):([^@/]*)@([^:/]+):(\d+)/(\w+)", env["DATABASE_URL"])
            self.assertIsNotNone(database, f"{name}: DATABASE_URL is not user:password@host:port/db")
            user, password, host, port, db = database.groups()
            self.assertEqual((host, port), ("postgres", "5432"))
            self.assertEqual(user, postgres_env["POSTGRES_USER"])
            self.assertEqual(password, postgres_env["POSTGRES_PASSWORD"])
            self.assertEqual(db, postgres_env["POSTGRES_DB"])
            self.assertRegex(env["REDIS_URL"], r"^redis://redis(:6379)?(/\d+)?$")

    def test_documentation_parses_into_common_and_per_service_keys(self):
        common, per_service = documented_keys()
        for key in ("PORT", "ADMIN_PORT", "DATABASE_URL", "JWT_SECRET", "JWT_SECRET_FILE", "KB_SEARCH_ADDR"):
            self.assertIn(key, common)
        self.assertIn("BOOTSTRAP_OWNER_PASSWORD_FILE", per_service["control"])
        for name in SERVICES + (EDGE,):
            self.assertTrue(per_service[name], f"docs/CONFIGURATION.md has no keys for {name}")
        self.assertIn("EDGE_MAX_BODY_BYTES", per_service[EDGE])

    def test_environment_keys_are_documented(self):
        common, per_service = documented_keys()
        for name in SERVICES:
            allowed = common | per_service[name]
            unknown = sorted(set(service_environment(name)) - allowed)
            self.assertEqual(unknown, [], f"{name} sets keys docs/CONFIGURATION.md does not list for it")

    def test_services_listen_on_the_image_ports(self):
        for name in SERVICES:
            env = service_environment(name)
            self.assertNotEqual(env["PORT"], env["ADMIN_PORT"], name)
            for key in ("PORT", "ADMIN_PORT"):
                self.assertTrue(1 <= int(env[key]) <= 65535, f"{name} {key}={env[key]}")

    def test_healthchecks_call_the_grpc_health_service(self):
        for name in SERVICES:
            service = compose()["services"][name]
            test = service.get("healthcheck", {}).get("test")
            self.assertIsInstance(test, list, f"{name} has no exec-form healthcheck")
            port = service_environment(name)["PORT"]
            self.assertEqual(test, ["CMD", "agentctl", "health", "--address", f"127.0.0.1:{port}"], name)

    def test_services_wait_for_healthy_postgres_and_redis(self):
        services = compose()["services"]
        for dependency in ("postgres", "redis"):
            self.assertIn("test", services[dependency].get("healthcheck", {}), f"{dependency} has no healthcheck")
        for name in SERVICES:
            depends_on = services[name].get("depends_on")
            self.assertIsInstance(depends_on, dict, f"{name}: depends_on without conditions")
            for dependency in ("postgres", "redis"):
                self.assertEqual(
                    depends_on.get(dependency, {}).get("condition"), "service_healthy", f"{name} on {dependency}"
                )

    def test_peer_addresses_name_services_on_their_ports(self):
        seen = 0
        for name in SERVICES:
            for key, value in service_environment(name).items():
                if not key.endswith("_ADDR"):
                    continue
                peer = key[: -len("_ADDR")].lower().replace("_", "-")
                self.assertIn(peer, SERVICES, f"{name}: {key} names no service")
                for address in value.split(","):
                    host, port = split_address(address)
                    self.assertEqual(host, peer, f"{name}: {key}={value}")
                    self.assertEqual(str(port), service_environment(peer)["PORT"], f"{name}: {key}={value}")
                    seen += 1
        self.assertGreater(seen, 0, "no service has a peer address")

    def test_control_knows_every_peer_and_execution_knows_control(self):
        control = service_environment("control")
        for peer in ("EXECUTION_ADDR", "KB_SEARCH_ADDR", "TICKETING_ADDR", "LLM_GATEWAY_ADDR", "NOTIFICATION_ADDR"):
            self.assertIn(peer, control)
        self.assertIn("CONTROL_ADDR", service_environment("execution"))
        self.assertIn("LLM_GATEWAY_ADDR", service_environment("kb-search"))

    def test_file_keys_read_secrets_the_service_mounts(self):
        declared = compose().get("secrets", {})
        for name in SERVICES + (EDGE,):
            mounted = mounted_secrets(name)
            for secret in mounted:
                self.assertIn(secret, declared, f"{name} mounts undeclared secret {secret}")
            for key, value in service_environment(name).items():
                if key.endswith("_FILE"):
                    self.assertIn(value, mounted.values(), f"{name}: {key}={value} is not a mounted secret")
        for secret, definition in declared.items():
            # Under compose/secrets/, the folder kept out of git and out of the image's context.
            self.assertEqual(pathlib.PurePosixPath(definition["file"]).parts[0], "secrets", secret)

    def test_services_run_the_image_compose_builds(self):
        services = compose()["services"]
        builders = [name for name in SERVICES if "build" in services[name]]
        self.assertEqual(len(builders), 1, "exactly one service builds the shared image")
        builder = services[builders[0]]
        context = (COMPOSE_DIR / builder["build"]["context"]).resolve()
        self.assertTrue((context / "Package.swift").is_file(), "the build context is the repository root")
        self.assertEqual(context / builder["build"]["dockerfile"], COMPOSE_DIR / "Dockerfile")
        for name in SERVICES + (EDGE,):
            self.assertEqual(services[name].get("image"), builder["image"], name)
            self.assertEqual(services[name].get("command"), [name], f"{name} runs its own program")
        self.assertNotIn("build", services[EDGE], "the edge uses the image control builds")

    def test_matches_the_compose_specification_schema(self):
        try:
            vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
            import jsonschema
        except ModuleNotFoundError as missing:
            self.fail(f"{missing.name} is not installed (scripts/deps installs check-jsonschema)")
        schema = json.loads(vendor.joinpath("compose-spec.json").read_text(encoding="utf-8"))
        validator = jsonschema.validators.validator_for(schema)(schema)
        errors = sorted(validator.iter_errors(compose()), key=lambda error: list(error.absolute_path))
        messages = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors]
        self.assertEqual(messages, [])

    def test_the_schema_check_catches_a_broken_file(self):
        try:
            vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
            import jsonschema
        except ModuleNotFoundError as missing:
            self.fail(f"{missing.name} is not installed (scripts/deps installs check-jsonschema)")
        schema = json.loads(vendor.joinpath("compose-spec.json").read_text(encoding="utf-8"))
        broken = json.loads(json.dumps(compose()))
        broken["services"]["control"]["depends_on"]["postgres"]["condition"] = "when_ready"
        broken["services"]["ticketing"]["deploy"]["replicas"] = "two"
        validator = jsonschema.validators.validator_for(schema)(schema)
        self.assertGreaterEqual(len(list(validator.iter_errors(broken))), 2)


class EdgeComposeTests(unittest.TestCase):
    """compose.yaml's edge: its own keys (no database), peers, the published port, the health
    check on /readyz, the wait for control, the stop grace."""

    def test_the_edge_sets_its_required_keys_and_no_database(self):
        env = service_environment(EDGE)
        for key in ("PORT", "ADMIN_PORT"):
            self.assertTrue(env.get(key), f"the edge has no {key}")
            self.assertTrue(1 <= int(env[key]) <= 65535, f"edge {key}={env[key]}")
        self.assertNotEqual(env["PORT"], env["ADMIN_PORT"])
        self.assertTrue(env.get("JWT_SECRET_FILE"), "the edge reads the JWT secret from a compose secret")
        self.assertNotIn("JWT_SECRET", env, "no secret in the environment")
        for key in ("DATABASE_URL", "REDIS_URL", "STARTUP_TIMEOUT"):
            self.assertNotIn(key, env, f"the edge has no database: {key} does not belong to it")

    def test_the_edge_keys_are_documented_in_its_section(self):
        _, per_service = documented_keys()
        unknown = sorted(set(service_environment(EDGE)) - per_service[EDGE])
        self.assertEqual(unknown, [], "the edge sets keys docs/CONFIGURATION.md's `## edge` does not list")

    def test_every_key_the_edge_reads_is_documented(self):
        _, per_service = documented_keys()
        read = edge_configuration_keys()
        self.assertIn("EDGE_JSON_MAX_DEPTH", read, "the parse of EdgeConfiguration.swift found its keys")
        self.assertIn("JWT_SECRET_FILE", read)
        self.assertEqual(sorted(read - per_service[EDGE]), [], "keys of EdgeConfiguration.swift missing from `## edge`")

    def test_the_edge_forwards_to_every_service_on_its_port(self):
        env = service_environment(EDGE)
        for name in SERVICES:
            key = name.upper().replace("-", "_") + "_ADDR"
            self.assertIn(key, env, f"the edge has no {key}: its routes to {name} would answer 503")
        for key, value in env.items():
            if not key.endswith("_ADDR"):
                continue
            peer = key[: -len("_ADDR")].lower().replace("_", "-")
            self.assertIn(peer, SERVICES, f"edge: {key} names no service")
            for address in value.split(","):
                host, port = split_address(address)
                self.assertEqual(host, peer, f"edge: {key}={value}")
                self.assertEqual(str(port), service_environment(peer)["PORT"], f"edge: {key}={value}")

    def test_the_edge_is_published_where_make_run_serves_it(self):
        env = service_environment(EDGE)
        self.assertEqual(published_ports(EDGE), [("127.0.0.1", EDGE_HOST_PORT, int(env["PORT"]))])
        # A published host port binds one container: the edge runs once here.
        self.assertEqual(compose()["services"][EDGE].get("deploy", {}).get("replicas", 1), 1)

    def test_published_host_ports_do_not_clash(self):
        # Two bindings of one host port clash on the same address or when either is every address.
        seen: list[tuple[str, int, str]] = []
        for name in compose()["services"]:
            for host, port, _ in published_ports(name):
                for other_host, other_port, other in seen:
                    wildcard = {host, other_host} & {"", "0.0.0.0"}
                    if port == other_port and (host == other_host or wildcard):
                        self.fail(f"{name} and {other} both publish host port {port}")
                seen.append((host, port, name))

    def test_the_edge_waits_for_a_healthy_control(self):
        depends_on = compose()["services"][EDGE].get("depends_on")
        self.assertIsInstance(depends_on, dict, "edge: depends_on without conditions")
        self.assertEqual(depends_on.get("control", {}).get("condition"), "service_healthy")
        for dependency in ("postgres", "redis"):
            self.assertNotIn(dependency, depends_on, "the edge uses no database")

    def test_the_edge_healthcheck_asks_readyz_on_the_admin_port(self):
        healthcheck = compose()["services"][EDGE].get("healthcheck", {})
        test = healthcheck.get("test")
        self.assertIsInstance(test, list, "the edge has no exec-form healthcheck")
        self.assertEqual(test[:3], ["CMD", "bash", "-c"], "no curl in the image: bash's /dev/tcp")
        self.assertEqual(len(test), 4)
        admin_port = service_environment(EDGE)["ADMIN_PORT"]
        self.assertIn(f"/dev/tcp/127.0.0.1/{admin_port}", test[3])
        self.assertIn("GET /readyz HTTP/1.1", test[3])
        self.assertIn("200", test[3])
        # Compose interpolates `$name`: the script's own variables must be written `$$name`.
        self.assertNotIn("$", test[3].replace("$$", ""), "an unescaped $ in the script")

    def test_the_edge_stops_after_its_grace(self):
        service = compose()["services"][EDGE]
        grace = parse_duration(service_environment(EDGE).get("SHUTDOWN_GRACE", "10s"))
        self.assertGreater(parse_duration(service.get("stop_grace_period", "10s")), grace)
        self.assertEqual(service.get("restart"), "unless-stopped")


class PrometheusTests(unittest.TestCase):
    """prometheus.yml scrapes every replica of every service on its admin port."""

    @classmethod
    def setUpClass(cls):
        with open(COMPOSE_DIR / "prometheus.yml", encoding="utf-8") as file:
            cls.config = yaml.safe_load(file)

    def targets(self) -> list[tuple[str, str, int]]:
        """(metrics path, host, port) of every target."""
        found = []
        for job in self.config["scrape_configs"]:
            path = job.get("metrics_path", "/metrics")
            for sd in job.get("dns_sd_configs", []):
                self.assertEqual(sd.get("type", "SRV"), "A", f"{job['job_name']}: A records carry no port")
                for name in sd["names"]:
                    found.append((path, name, int(sd["port"])))
            for static in job.get("static_configs", []):
                for target in static["targets"]:
                    host, port = split_address(target)
                    found.append((path, host, port))
        return found

    def test_jobs_have_unique_names(self):
        names = [job["job_name"] for job in self.config["scrape_configs"]]
        self.assertEqual(len(names), len(set(names)))

    def test_every_service_admin_port_is_scraped(self):
        targets = self.targets()
        for name in SERVICES:
            admin_port = int(service_environment(name)["ADMIN_PORT"])
            self.assertIn(("/metrics", name, admin_port), targets, f"{name}'s admin port is not scraped")

    def test_the_edge_admin_port_is_scraped(self):
        admin_port = int(service_environment(EDGE)["ADMIN_PORT"])
        self.assertIn(("/metrics", EDGE, admin_port), self.targets(), "the edge's admin port is not scraped")
        http_port = int(service_environment(EDGE)["PORT"])
        self.assertNotIn(("/metrics", EDGE, http_port), self.targets(), "scrape the admin port, not the public one")

    def test_every_target_is_a_compose_service(self):
        services = compose()["services"]
        for _, host, port in self.targets():
            if host == "localhost":
                continue
            self.assertIn(host, services, f"scrape target {host} is not a compose service")
            self.assertEqual(str(port), service_environment(host)["ADMIN_PORT"], host)

    def test_prometheus_mounts_this_file(self):
        volumes = compose()["services"]["prometheus"].get("volumes", [])
        self.assertTrue(any(v.split(":")[0] == "./prometheus.yml" for v in volumes), volumes)


def write_secrets(root: pathlib.Path) -> pathlib.Path:
    """The files of compose/secrets/, made in `root` as README.md makes them."""
    made = {
        "jwt_secret": base64.b64encode(secrets.token_bytes(48)).decode(),
        "secret_box_keys": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "owner_password": secrets.token_urlsafe(18),
        "bootstrap_token": secrets.token_hex(32) + "\n",
    }
    for name, value in made.items():
        (root / name).write_text(value, encoding="utf-8")
    return root


def environment_on_this_host(name: str, secret_folder: pathlib.Path) -> dict[str, str]:
    """A service's compose environment with its `/run/secrets/` paths moved to `secret_folder`."""
    env = service_environment(name)
    for key, value in env.items():
        if key.endswith("_FILE") and value.startswith("/run/secrets/"):
            env[key] = str(secret_folder / value.removeprefix("/run/secrets/"))
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@functools.cache
def service_binaries() -> pathlib.Path:
    """The folder of the six service executables and the edge's, built first if one is missing
    (AGENTPLANE_CONFIGURATION picks debug or release, as for scripts/platform)."""
    configuration = os.environ.get("AGENTPLANE_CONFIGURATION", "debug")
    swift_build = ["swift", "build", "-c", configuration]
    folder = pathlib.Path(
        subprocess.run(
            [*swift_build, "--show-bin-path"], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    for name in SERVICES + (EDGE,):
        if not (folder / name).is_file():
            subprocess.run([*swift_build, "--product", name], cwd=REPO, check=True, capture_output=True)
    return folder


class ServiceConfigurationTests(unittest.TestCase):
    """The services themselves accept the configuration compose gives them.

    Each service is started with its compose environment, secrets made as README.md makes them,
    and Postgres and Redis moved to hosts that cannot resolve (`.invalid`), with a short
    STARTUP_TIMEOUT: a service that accepts its keys gets past the configuration check and
    stops at the database (exit 1, before binding any port); a rejected key exits 2 with
    "configuration:".
    """

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.TemporaryDirectory(prefix="agentplane-compose-")
        cls.secret_folder = write_secrets(pathlib.Path(cls.folder.name))
        cls.binaries = service_binaries()

    @classmethod
    def tearDownClass(cls):
        cls.folder.cleanup()

    def start(self, name: str, changes: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """Runs a service with its compose environment plus `changes` until it exits."""
        env = environment_on_this_host(name, self.secret_folder)
        env["DATABASE_URL"] = re.sub(r"@([^:/]+)", r"@\1.invalid", env["DATABASE_URL"])
        env["REDIS_URL"] = re.sub(r"//([^:/]+)", r"//\1.invalid", env["REDIS_URL"])
        env["STARTUP_TIMEOUT"] = "1s"
        env.update(changes)
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        return subprocess.run(
            [str(self.binaries / name)], env=env, capture_output=True, text=True, timeout=120, cwd=self.folder.name
        )

    def test_every_service_accepts_its_compose_configuration(self):
        for name in SERVICES:
            with self.subTest(service=name):
                result = self.start(name, {})
                self.assertNotIn("configuration:", result.stderr)
                self.assertEqual(result.returncode, 1, result.stderr[-2000:])
                self.assertIn(".invalid", result.stderr, "it stopped at the database, as expected")

    def test_a_bad_value_is_reported_as_configuration(self):
        result = self.start("ticketing", {"ZAMMAD_TIMEOUT": "soon"})
        self.assertEqual(result.returncode, 2, result.stderr[-2000:])
        self.assertIn("ZAMMAD_TIMEOUT", result.stderr)


class EdgeConfigurationTests(unittest.TestCase):
    """The edge binary accepts its compose environment.

    It has no database to stop at, so it is started for real with its compose environment
    (secrets made as README.md makes them, the ports moved to free ones on 127.0.0.1; the peers'
    names need not resolve, since peers are connected on first use), its /readyz is polled until
    it answers 200, compose's healthcheck script is run against it, and SIGTERM must end it with
    exit 0. A bad EDGE_* value must exit 2 naming the key.
    """

    READY_WITHIN = 30.0
    EXIT_WITHIN = 30.0

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.TemporaryDirectory(prefix="agentplane-compose-edge-")
        cls.secret_folder = write_secrets(pathlib.Path(cls.folder.name))
        cls.binary = service_binaries() / EDGE

    @classmethod
    def tearDownClass(cls):
        cls.folder.cleanup()

    def environment(self, changes: dict[str, str]) -> dict[str, str]:
        env = environment_on_this_host(EDGE, self.secret_folder)
        env.update(changes)
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        return env

    def spawn(self, changes: dict[str, str]) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [str(self.binary)], env=self.environment(changes), cwd=self.folder.name,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

        def stop():
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)

        self.addCleanup(stop)
        return process

    def readyz(self, admin_port: int) -> int | None:
        """/readyz's status, or None when nothing answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/readyz", timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except (urllib.error.URLError, OSError):
            return None

    def test_the_edge_accepts_its_compose_configuration(self):
        port, admin_port = free_port(), free_port()
        process = self.spawn({"PORT": str(port), "ADMIN_PORT": str(admin_port), "HOST": "127.0.0.1"})
        deadline = time.monotonic() + self.READY_WITHIN
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            status = self.readyz(admin_port)
            if status == 200:
                break
            time.sleep(0.2)
        if status != 200:
            process.kill()
            _, stderr = process.communicate(timeout=30)
            self.fail(f"/readyz never answered 200 (last {status}, exit {process.returncode}): {stderr[-2000:]}")

        # The public port serves too: the note of a console not built (WEB_ROOT is absent).
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            self.assertEqual(response.status, 200)
            self.assertIn("/v1/", response.read().decode())

        # compose's healthcheck, as the container runs it, passes against this edge.
        check = subprocess.run(["bash", "-c", edge_healthcheck_script(admin_port)], capture_output=True, timeout=10)
        self.assertEqual(check.returncode, 0, check.stderr)

        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=self.EXIT_WITHIN)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=30)
            self.fail(f"the edge did not exit within {self.EXIT_WITHIN}s of SIGTERM")
        self.assertEqual(process.returncode, 0, stderr[-2000:])
        self.assertNotIn("configuration:", stderr)

        # And the healthcheck fails once nothing answers.
        check = subprocess.run(["bash", "-c", edge_healthcheck_script(admin_port)], capture_output=True, timeout=10)
        self.assertNotEqual(check.returncode, 0)

    def test_a_bad_edge_value_exits_2_naming_the_key(self):
        process = self.spawn({
            "PORT": str(free_port()), "ADMIN_PORT": str(free_port()), "HOST": "127.0.0.1",
            "EDGE_MAX_BODY_BYTES": "1", "EDGE_CALL_TIMEOUT": "soon",
        })
        _, stderr = process.communicate(timeout=60)
        self.assertEqual(process.returncode, 2, stderr[-2000:])
        self.assertIn("EDGE_MAX_BODY_BYTES", stderr)
        self.assertIn("EDGE_CALL_TIMEOUT", stderr)


KNOWN_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
    "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}


def parse_dockerfile(text: str) -> list[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) of each instruction: comments dropped, `\\` continuations
    joined. Unknown instructions raise, as `docker build` would."""
    instructions = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        line = pending + stripped
        pending = ""
        word, _, arguments = line.partition(" ")
        if word.upper() not in KNOWN_INSTRUCTIONS:
            raise ValueError(f"line {start}: unknown instruction {word!r}")
        instructions.append((start, word.upper(), arguments.strip()))
    if pending:
        raise ValueError("the file ends inside a line continuation")
    return instructions


def arg_default(arguments: str) -> tuple[str, str | None]:
    """`NAME[=default]` of an ARG, the default unquoted."""
    name, sep, value = arguments.partition("=")
    return name, (shlex.split(value)[0] if value else "") if sep else None


class DockerfileTests(unittest.TestCase):
    """compose/Dockerfile: well formed, stages consistent, every program compose runs is built."""

    @classmethod
    def setUpClass(cls):
        cls.instructions = parse_dockerfile((COMPOSE_DIR / "Dockerfile").read_text(encoding="utf-8"))
        # Stages as (name, image, [instructions]); global ARGs before the first FROM.
        cls.global_args: dict[str, str | None] = {}
        cls.stages: list[tuple[str | None, str, list[tuple[int, str, str]]]] = []
        for entry in cls.instructions:
            _, instruction, arguments = entry
            if instruction == "FROM":
                words = [w for w in arguments.split() if not w.startswith("--")]
                name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
                cls.stages.append((name, words[0], []))
            elif cls.stages:
                cls.stages[-1][2].append(entry)
            elif instruction == "ARG":
                name, default = arg_default(arguments)
                cls.global_args[name] = default

    def stage(self, name: str) -> list[tuple[int, str, str]]:
        for stage_name, _, instructions in self.stages:
            if stage_name == name:
                return instructions
        self.fail(f"no stage {name}")

    def products(self) -> list[str]:
        """The products the build stage builds (its `ARG PRODUCTS` default)."""
        for _, instruction, arguments in self.stage("build"):
            if instruction == "ARG" and arguments.startswith("PRODUCTS="):
                return arg_default(arguments)[1].split()
        self.fail("the build stage has no ARG PRODUCTS")

    def test_parser_rejects_unknown_instructions(self):
        with self.assertRaises(ValueError):
            parse_dockerfile("FROM scratch\nRUNN true\n")
        with self.assertRaises(ValueError):
            parse_dockerfile("FROM scratch\nRUN true \\\n")

    def test_only_args_come_before_the_first_from(self):
        first_from = next(i for i, (_, instruction, _) in enumerate(self.instructions) if instruction == "FROM")
        self.assertTrue(all(instruction == "ARG" for _, instruction, _ in self.instructions[:first_from]))

    def test_stage_images_resolve(self):
        for name, image, _ in self.stages:
            resolved = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: self.global_args.get(m[1] or m[2]) or "", image)
            self.assertRegex(resolved, r"^[a-z0-9./_-]+(:[\w.-]+)?$", f"stage {name}: image {image!r}")
        self.assertEqual(self.global_args.get("SWIFT_IMAGE", "").split(":")[0], "swift")

    def test_copy_from_names_an_earlier_stage(self):
        earlier: set[str] = set()
        for name, _, instructions in self.stages:
            for line, instruction, arguments in instructions:
                source = re.search(r"--from=(\S+)", arguments)
                if instruction in ("COPY", "ADD") and source:
                    self.assertIn(source[1], earlier, f"line {line}: no stage {source[1]} before it")
            if name:
                earlier.add(name)

    def test_products_are_package_executables(self):
        manifest = (REPO / "Package.swift").read_text(encoding="utf-8")
        executables = set(re.findall(r'\.executable\(\s*name:\s*"([^"]+)"', manifest))
        for product in self.products():
            self.assertIn(product, executables, f"{product} is not an executable product of Package.swift")

    def test_every_program_compose_runs_is_built(self):
        products = set(self.products())
        services = compose()["services"]
        for name in SERVICES:
            self.assertIn(services[name]["command"][0], products, name)
            self.assertIn(services[name]["healthcheck"]["test"][1], products, f"{name}'s healthcheck")
        self.assertIn(services[EDGE]["command"][0], products, EDGE)

    def test_the_edge_healthcheck_program_is_in_the_runtime_image(self):
        # bash (essential in Debian) runs the edge's healthcheck: the runtime image must be Debian's.
        self.assertEqual(compose()["services"][EDGE]["healthcheck"]["test"][1], "bash")
        runtime_image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: self.global_args.get(m[1] or m[2]) or "", self.stages[-1][1])
        self.assertRegex(runtime_image, r"^debian:")

    def test_build_builds_the_products_with_their_resources(self):
        runs = " ".join(arguments for _, instruction, arguments in self.stage("build") if instruction == "RUN")
        self.assertIn("swift build -c release", runs)
        self.assertRegex(runs, r"for product in \$\{?PRODUCTS\}?; do\s+swift build [^;]*--product \"?\$product")
        self.assertRegex(runs, r"cp \"?\$bin/\$product\"? /out/")
        self.assertRegex(runs, r"cp -R \"?\$bin\"?/\*\.resources /out/")
        for package in ("libprotobuf-c-dev", "libnghttp2-dev", "libpq-dev", "libhiredis-dev", "libhnswlib-dev"):
            self.assertIn(package, runs)

    def test_runtime_stage_ships_the_build_output_and_runs_unprivileged(self):
        runtime_name, _, runtime = self.stages[-1]
        copies = [args for _, instruction, args in runtime if instruction == "COPY" and "--from=build" in args]
        self.assertTrue(any(args.split()[1] == "/out/" for args in copies), copies)
        installs = " ".join(args for _, instruction, args in runtime if instruction == "RUN")
        for library in ("libprotobuf-c1", "libnghttp2-14", "libpq5", "libhiredis0.14", "ca-certificates"):
            self.assertIn(library, installs)
        users = [args for _, instruction, args in runtime if instruction == "USER"]
        self.assertTrue(users and users[-1] not in ("root", "0"), f"stage {runtime_name} runs as root")
        commands = [args for _, instruction, args in runtime if instruction in ("CMD", "ENTRYPOINT")]
        self.assertTrue(commands, "the runtime stage has no CMD")
        program = json.loads(commands[-1])[0]
        self.assertIn(program, self.products())

    def test_dockerignore_keeps_build_output_out_of_the_context(self):
        ignore = (COMPOSE_DIR / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
        self.assertIn("**/.build", ignore)


if __name__ == "__main__":
    unittest.main()
