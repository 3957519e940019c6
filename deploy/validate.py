#!/usr/bin/env python3
"""Validates Warrant's deployment files (deploy/).

Run through deploy/validate.sh, which installs the pinned tools of
deploy/requirements.txt into a throw-away virtualenv. Checks:

1. every YAML file under deploy/ parses;
2. the Kubernetes manifests (deploy/k8s/): each object has apiVersion, kind
   and metadata.name with the expected apiVersion; every file belongs to a
   kustomization; no Secret is committed; the Deployment (probes on
   /readyz and /healthz at the container port, resources, non-root and
   read-only, keys from a Secret, draining, scrape annotations, spread),
   the Service, PodDisruptionBudget and HorizontalPodAutoscaler target it,
   the Job runs `warrant migrate` with the same image, and every variable
   the pods read is one Warrant knows;
3. the compose file (deploy/docker-compose.yml): the services exist, two
   replicas run `serve` with the production variables and the same issuer
   and keys, depends_on waits on health and on the one-shot jobs, only the
   proxy publishes a port, and the proxy's configuration balances both
   replicas with a check on /readyz;
4. the Dockerfile: multi-stage, non-root numeric USER, `warrant` entrypoint;
5. the manifests against the Kubernetes OpenAPI schemas (strict: unknown
   fields are errors) and the compose file against the Compose spec.

Exits 1 listing every violation, 0 when all hold.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
K8S = DEPLOY / "k8s"
COMPOSE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"

# Every variable the `warrant serve` / `warrant migrate` process reads. Keep
# it in step with the configuration table of README.md ("Configuration").
# The CLI's own variables (WARRANT_URL, WARRANT_ADMIN_CLIENT_ID, ...) are not
# for server pods and are deliberately absent.
KNOWN_VARIABLES = {
    # README.md, configuration table
    "WARRANT_LISTEN",
    "WARRANT_ISSUER",
    "WARRANT_DATA_DIR",
    "WARRANT_KEYS_DIR",
    "WARRANT_DATABASE_URL",
    "WARRANT_REDIS_URL",
    "WARRANT_REDIS_PREFIX",
    "WARRANT_TOKEN_TTL",
    "WARRANT_BOOTSTRAP_ADMIN_ID",
    "WARRANT_BOOTSTRAP_ADMIN_SECRET",
    "WARRANT_GRANT_MAX_LIFETIME",
    "WARRANT_MAX_CREDENTIALS",
    "WARRANT_CONFIG",
    "RUST_LOG",
    # issue 6 (operations): log format, draining, TLS, token rate limits
    "WARRANT_LOG_FORMAT",
    "WARRANT_SHUTDOWN_GRACE",
    "WARRANT_TLS_CERT",
    "WARRANT_TLS_KEY",
    "WARRANT_TOKEN_RATE_LIMIT",
    "WARRANT_TOKEN_RATE_BURST",
}
# Variables that carry credentials: never a literal in a manifest.
SECRET_VARIABLES = {"WARRANT_DATABASE_URL", "WARRANT_REDIS_URL", "WARRANT_BOOTSTRAP_ADMIN_SECRET"}
# The key files every replica must share (WARRANT_KEYS_DIR).
KEY_FILES = {"signing-es256.pem", "pepper"}

EXPECTED_API = {
    "ConfigMap": "v1",
    "Service": "v1",
    "Deployment": "apps/v1",
    "Job": "batch/v1",
    "PodDisruptionBudget": "policy/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "NetworkPolicy": "networking.k8s.io/v1",
}
# The oldest Kubernetes the manifests are checked against (besides the
# newest schema kubernetes-validate ships).
OLDEST_KUBERNETES = "1.30.0"
# Peak resident memory under load in BENCHMARKS.md (2026-11-24).
BENCHMARKED_PEAK_MIB = 48
# Each replica's PostgreSQL pool (crates/store/src/sql/mod.rs) and
# PostgreSQL's default max_connections less its 3 reserved slots.
POOL_PER_REPLICA = 16
POSTGRES_DEFAULT_CONNECTIONS = 97

errors: list[str] = []
warnings: list[str] = []


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def fail(where: str, message: str) -> None:
    errors.append(f"{where}: {message}")


def warn(where: str, message: str) -> None:
    warnings.append(f"{where}: {message}")


def dig(obj, *keys, default=None):
    """obj[k1][k2]... or default when any step is missing or not a mapping/list."""
    for key in keys:
        if isinstance(obj, dict) and key in obj:
            obj = obj[key]
        elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return default
    return obj


def subset(labels: dict | None, of: dict | None) -> bool:
    """Whether every label of `labels` is in `of` (an empty selector selects nothing here)."""
    return bool(labels) and all((of or {}).get(k) == v for k, v in labels.items())


def mebibytes(quantity) -> float | None:
    """A Kubernetes memory quantity in MiB."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?|[kmgt])?", str(quantity))
    if not match:
        return None
    factors = {None: 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
               "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}
    return float(match.group(1)) * factors[match.group(2)] / 1024**2


def cores(quantity) -> float | None:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(m?)", str(quantity))
    if not match:
        return None
    return float(match.group(1)) / (1000 if match.group(2) else 1)


def listen_port(value: str | None, where: str) -> int | None:
    """The port of a WARRANT_LISTEN value, checking it listens on every interface."""
    if not value:
        fail(where, "WARRANT_LISTEN is not set explicitly (Warrant's own default, 127.0.0.1:8080, is unreachable from outside the container)")
        return None
    host, _, port = value.rpartition(":")
    if host not in ("0.0.0.0", "[::]"):
        fail(where, f"WARRANT_LISTEN={value!r} must listen on 0.0.0.0 (or [::]) in a container")
    if not port.isdigit():
        fail(where, f"WARRANT_LISTEN={value!r} has no port")
        return None
    return int(port)


# --------------------------------------------------------------------------
# 1. YAML
# --------------------------------------------------------------------------

class UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (PyYAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_all_yaml() -> dict[Path, list]:
    documents: dict[Path, list] = {}
    for path in sorted(DEPLOY.rglob("*")):
        if path.suffix not in (".yml", ".yaml") or not path.is_file():
            continue
        try:
            with path.open(encoding="utf-8") as file:
                documents[path] = [doc for doc in yaml.load_all(file, Loader=UniqueKeyLoader) if doc is not None]
        except yaml.YAMLError as error:
            fail(rel(path), f"not valid YAML: {error}")
    if not documents:
        fail("deploy/", "no YAML file found")
    return documents


# --------------------------------------------------------------------------
# 2. Kubernetes
# --------------------------------------------------------------------------

class Objects:
    """The Kubernetes objects of deploy/k8s, by kind."""

    def __init__(self) -> None:
        self.by_kind: dict[str, list[tuple[Path, dict]]] = {}

    def add(self, path: Path, obj: dict) -> None:
        self.by_kind.setdefault(obj["kind"], []).append((path, obj))

    def all(self, kind: str) -> list[tuple[Path, dict]]:
        return self.by_kind.get(kind, [])

    def one(self, kind: str) -> tuple[Path, dict] | None:
        found = self.all(kind)
        if len(found) != 1:
            fail("deploy/k8s", f"expected exactly one {kind}, found {len(found)}")
            return None
        return found[0]


def where_of(path: Path, obj: dict) -> str:
    return f"{rel(path)}: {obj.get('kind')} {dig(obj, 'metadata', 'name')}"


def check_kubernetes(documents: dict[Path, list]) -> None:
    if not K8S.is_dir():
        fail("deploy/k8s", "missing")
        return
    objects = Objects()
    manifests: list[Path] = []
    kustomizations: list[tuple[Path, dict]] = []
    for path, docs in documents.items():
        if K8S not in path.parents:
            continue
        if path.name == "kustomization.yaml":
            kustomizations.extend((path, doc) for doc in docs)
            continue
        manifests.append(path)
        for doc in docs:
            if not isinstance(doc, dict):
                fail(rel(path), "a document is not a mapping")
                continue
            missing = [k for k in ("apiVersion", "kind") if not doc.get(k)]
            if not dig(doc, "metadata", "name"):
                missing.append("metadata.name")
            if missing:
                fail(rel(path), f"an object lacks {', '.join(missing)}")
                continue
            kind = doc["kind"]
            if kind == "Secret":
                fail(where_of(path, doc), "Secrets are created out of band (deploy/README.md); never commit one")
                continue
            if kind not in EXPECTED_API:
                fail(where_of(path, doc), f"unexpected kind (expected one of {', '.join(sorted(EXPECTED_API))})")
                continue
            if doc["apiVersion"] != EXPECTED_API[kind]:
                fail(where_of(path, doc), f"apiVersion {doc['apiVersion']!r}, expected {EXPECTED_API[kind]!r}")
            objects.add(path, doc)

    images = check_kustomizations(kustomizations, manifests)

    deployment = objects.one("Deployment")
    job = objects.one("Job")
    configmaps = {dig(obj, "metadata", "name"): (path, obj) for path, obj in objects.all("ConfigMap")}
    pod_labels = job_labels = None
    replicas = 0
    container = None
    port_numbers: set = set()
    if deployment:
        pod_labels, replicas, container, port_numbers = check_deployment(*deployment, configmaps, images)
    if job:
        job_labels = check_job(*job, container, images)
    if deployment:
        check_service(objects, deployment, pod_labels, job_labels, port_numbers)
        check_pdb(objects, pod_labels, job_labels, replicas)
        check_hpa(objects, deployment, container)
        for path, policy in objects.all("NetworkPolicy"):
            where = where_of(path, policy)
            if not subset(dig(policy, "spec", "podSelector", "matchLabels"), pod_labels):
                fail(where, "podSelector does not select the Warrant pods")
            for rule in dig(policy, "spec", "ingress", default=[]) or []:
                ports = {p.get("port") for p in rule.get("ports", [])}
                if ports and not ports & port_numbers:
                    fail(where, f"an ingress rule admits ports {sorted(map(str, ports))}, not the container port")


def check_kustomizations(kustomizations: list[tuple[Path, dict]], manifests: list[Path]) -> dict[str, dict]:
    """Every manifest is listed by exactly one kustomization; all use the same image."""
    if not kustomizations:
        fail("deploy/k8s", "no kustomization.yaml")
    listed: dict[Path, Path] = {}
    images: dict[str, dict] = {}
    for path, kustomization in kustomizations:
        for resource in kustomization.get("resources", []) or []:
            target = (path.parent / resource).resolve()
            if not target.exists():
                fail(rel(path), f"resource {resource!r} does not exist")
            elif target.is_file():
                if target in listed:
                    fail(rel(path), f"{resource!r} is also listed by {rel(listed[target])}")
                listed[target] = path
        for image in kustomization.get("images", []) or []:
            name = image.get("name")
            if name in images and images[name] != image:
                fail(rel(path), f"image {name!r} differs from another kustomization's: {images[name]} vs {image}")
            images.setdefault(name, image)
    for manifest in manifests:
        if manifest.resolve() not in listed:
            fail(rel(manifest), "not listed by any kustomization.yaml")
    return images


def pod_security(where: str, pod: dict, container: dict) -> None:
    pod_ctx = pod.get("securityContext") or {}
    ctx = container.get("securityContext") or {}
    if not (ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True):
        fail(where, "runAsNonRoot must be true")
    if ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0:
        fail(where, "runAsUser must not be 0")
    if ctx.get("readOnlyRootFilesystem") is not True:
        fail(where, "securityContext.readOnlyRootFilesystem must be true")
    if ctx.get("allowPrivilegeEscalation") is not False:
        fail(where, "securityContext.allowPrivilegeEscalation must be false")
    if "ALL" not in (dig(ctx, "capabilities", "drop") or []):
        fail(where, "securityContext.capabilities.drop must include ALL")


def check_env(where: str, container: dict, configmaps: dict) -> dict[str, str | None]:
    """Every variable the container reads is known; secrets come from Secrets.
    Returns the variables with their literal values (None for references)."""
    values: dict[str, str | None] = {}
    for source in container.get("envFrom", []) or []:
        if "configMapRef" in source:
            name = source["configMapRef"].get("name")
            if name not in configmaps:
                fail(where, f"envFrom names ConfigMap {name!r}, which deploy/k8s does not define")
                continue
            path, configmap = configmaps[name]
            for key, value in (configmap.get("data") or {}).items():
                if key not in KNOWN_VARIABLES:
                    fail(where_of(path, configmap), f"{key} is not a variable Warrant knows (README configuration table)")
                if key in SECRET_VARIABLES:
                    fail(where_of(path, configmap), f"{key} holds credentials: reference a Secret instead")
                values[key] = str(value)
        else:
            fail(where, "envFrom other than a ConfigMap hides which variables the pod reads: use env with secretKeyRef")
    for var in container.get("env", []) or []:
        name = var.get("name")
        if name not in KNOWN_VARIABLES:
            fail(where, f"env {name} is not a variable Warrant knows (README configuration table)")
        if name in SECRET_VARIABLES and not dig(var, "valueFrom", "secretKeyRef"):
            fail(where, f"env {name} holds credentials: take it from a Secret (valueFrom.secretKeyRef)")
        values[name] = str(var["value"]) if "value" in var else None
    return values


def probe_port_ok(probe: dict | None, ports: dict) -> bool:
    port = dig(probe, "httpGet", "port")
    return port in ports or port in ports.values()


def check_deployment(path: Path, deployment: dict, configmaps: dict, images: dict):
    where = where_of(path, deployment)
    spec = deployment.get("spec") or {}
    pod = dig(spec, "template", "spec") or {}
    labels = dig(spec, "template", "metadata", "labels") or {}
    annotations = dig(spec, "template", "metadata", "annotations") or {}
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 2:
        fail(where, f"replicas is {replicas}, want at least 2")
    if not subset(dig(spec, "selector", "matchLabels"), labels):
        fail(where, "selector.matchLabels does not match the pod template's labels")

    containers = pod.get("containers") or []
    container = next((c for c in containers if c.get("name") == "warrant"), None)
    if container is None:
        fail(where, "no container named warrant")
        return labels, replicas, None, set()
    cwhere = f"{where}, container warrant"

    image = container.get("image", "")
    if images and image not in images:
        fail(cwhere, f"image {image!r} is not the one the kustomizations set ({', '.join(images)})")
    subcommand = [*(container.get("command") or []), *(container.get("args") or [])]
    subcommand = [w for w in subcommand if not w.endswith("warrant")]
    if subcommand not in ([], ["serve"]):
        fail(cwhere, f"runs {subcommand}, want `warrant serve`")

    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports") or []}
    port_numbers = set(ports.values())
    env = check_env(cwhere, container, configmaps)
    port = listen_port(env.get("WARRANT_LISTEN"), cwhere)
    if port is not None and port not in port_numbers:
        fail(cwhere, f"WARRANT_LISTEN port {port} is not a containerPort ({sorted(port_numbers)})")

    for variable in ("WARRANT_DATABASE_URL", "WARRANT_REDIS_URL", "WARRANT_ISSUER"):
        if variable not in env:
            fail(cwhere, f"{variable} is not set: production mode needs PostgreSQL, Redis and the public issuer URL")
    issuer = env.get("WARRANT_ISSUER")
    if issuer is not None and not issuer.startswith("https://"):
        fail(cwhere, f"WARRANT_ISSUER={issuer!r}: the public URL of a production deployment is https://")

    for probe, path_wanted in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", None)):
        spec_probe = container.get(probe)
        if not spec_probe:
            fail(cwhere, f"no {probe}")
            continue
        got = dig(spec_probe, "httpGet", "path")
        if path_wanted and got != path_wanted:
            fail(cwhere, f"{probe} checks {got!r}, want {path_wanted!r}")
        if probe == "startupProbe" and got not in ("/healthz", "/readyz"):
            fail(cwhere, f"startupProbe checks {got!r}, want /healthz")
        if not probe_port_ok(spec_probe, ports):
            fail(cwhere, f"{probe} port {dig(spec_probe, 'httpGet', 'port')!r} is not the container port {ports}")

    resources = container.get("resources") or {}
    for section, names in (("requests", ("cpu", "memory")), ("limits", ("memory",))):
        for name in names:
            if not dig(resources, section, name):
                fail(cwhere, f"resources.{section}.{name} is not set")
    request = mebibytes(dig(resources, "requests", "memory", default=""))
    limit = mebibytes(dig(resources, "limits", "memory", default=""))
    if limit is not None and limit < BENCHMARKED_PEAK_MIB * 1.25:
        fail(cwhere, f"memory limit {limit:.0f} MiB leaves too little above the benchmarked peak of {BENCHMARKED_PEAK_MIB} MiB")
    if request is not None and limit is not None and limit < request:
        fail(cwhere, "memory limit below the request")

    pod_security(cwhere, pod, container)

    keys_dir = env.get("WARRANT_KEYS_DIR") or "/var/lib/warrant/keys"
    mount = next((m for m in container.get("volumeMounts") or [] if m.get("mountPath") == keys_dir), None)
    volume = next((v for v in pod.get("volumes") or [] if mount and v.get("name") == mount.get("name")), None)
    if mount is None:
        fail(cwhere, f"nothing is mounted at WARRANT_KEYS_DIR ({keys_dir}): every replica needs the same key files")
    elif not (volume and "secret" in volume):
        fail(cwhere, f"{keys_dir} is not mounted from a Secret")
    else:
        if not mount.get("readOnly"):
            fail(cwhere, f"{keys_dir} must be mounted readOnly")
        items = {i.get("path") for i in volume["secret"].get("items") or []}
        if items and items != KEY_FILES:
            fail(cwhere, f"the keys Secret projects {sorted(items)}, want {sorted(KEY_FILES)}")
        if dig(pod, "securityContext", "fsGroup") is None:
            fail(where, "a Secret volume's files belong to root: set securityContext.fsGroup so the non-root user can read the keys")

    grace = pod.get("terminationGracePeriodSeconds", 30)
    pre_stop = dig(container, "lifecycle", "preStop", "exec", "command") or []
    pause = int(pre_stop[-1]) if len(pre_stop) >= 2 and pre_stop[-2].endswith("sleep") and pre_stop[-1].isdigit() else 0
    if not dig(container, "lifecycle", "preStop"):
        fail(cwhere, "no preStop: the endpoint removal must reach the proxies before Warrant stops accepting")
    shutdown_grace = env.get("WARRANT_SHUTDOWN_GRACE")
    drain = int(shutdown_grace) if shutdown_grace and shutdown_grace.isdigit() else 0
    if grace < pause + drain + 5:
        fail(where, f"terminationGracePeriodSeconds {grace} < preStop {pause} s + WARRANT_SHUTDOWN_GRACE {drain} s + 5 s for in-flight requests")

    if annotations.get("prometheus.io/scrape") != "true":
        fail(where, "pod annotation prometheus.io/scrape is not \"true\"")
    if annotations.get("prometheus.io/path") != "/metrics":
        fail(where, "pod annotation prometheus.io/path is not /metrics")
    if str(annotations.get("prometheus.io/port")) not in {str(p) for p in port_numbers}:
        fail(where, "pod annotation prometheus.io/port is not the container port")

    spread = pod.get("topologySpreadConstraints") or dig(pod, "affinity", "podAntiAffinity")
    if not spread:
        fail(where, "no topologySpreadConstraints or podAntiAffinity: replicas could share one node")
    for constraint in pod.get("topologySpreadConstraints") or []:
        if not subset(dig(constraint, "labelSelector", "matchLabels"), labels):
            fail(where, f"topology spread on {constraint.get('topologyKey')} does not select the pods")
    if pod.get("automountServiceAccountToken") is not False:
        warn(where, "automountServiceAccountToken is not false (Warrant does not talk to the API server)")
    return labels, replicas, container, port_numbers


def check_job(path: Path, job: dict, deployment_container: dict | None, images: dict):
    where = where_of(path, job)
    pod = dig(job, "spec", "template", "spec") or {}
    labels = dig(job, "spec", "template", "metadata", "labels") or {}
    containers = pod.get("containers") or []
    if len(containers) != 1:
        fail(where, f"expected one container, found {len(containers)}")
        return labels
    container = containers[0]
    cwhere = f"{where}, container {container.get('name')}"
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    words = [w for w in words if not w.endswith("warrant")]
    if words != ["migrate"]:
        fail(cwhere, f"runs {words or 'the image default (serve)'}, want `warrant migrate`")
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        fail(where, "restartPolicy must be Never or OnFailure")
    if dig(job, "spec", "backoffLimit") is None:
        fail(where, "spec.backoffLimit is not set")
    image = container.get("image")
    if deployment_container and image != deployment_container.get("image"):
        fail(cwhere, f"image {image!r} differs from the Deployment's {deployment_container.get('image')!r}")
    if images and image not in images:
        fail(cwhere, f"image {image!r} is not the one the kustomizations set")
    env = check_env(cwhere, container, {})
    if "WARRANT_DATABASE_URL" not in env:
        fail(cwhere, "WARRANT_DATABASE_URL is not set: the Job would migrate an embedded SQLite file")
    pod_security(cwhere, pod, container)
    if not dig(container, "resources", "limits", "memory"):
        fail(cwhere, "resources.limits.memory is not set")
    return labels


def check_service(objects: Objects, deployment, pod_labels, job_labels, port_numbers) -> None:
    services = objects.all("Service")
    if not services:
        fail("deploy/k8s", "no Service")
    containers = dig(deployment[1], "spec", "template", "spec", "containers") or []
    container = next((c for c in containers if c.get("name") == "warrant"), {})
    names = {p.get("name") for p in container.get("ports") or []}
    for path, service in services:
        where = where_of(path, service)
        selector = dig(service, "spec", "selector")
        if not subset(selector, pod_labels):
            fail(where, f"selector {selector} does not match the Deployment's pod labels {pod_labels}")
        if job_labels is not None and subset(selector, job_labels):
            fail(where, "selector also matches the migration Job's pods")
        for port in dig(service, "spec", "ports", default=[]) or []:
            target = port.get("targetPort", port.get("port"))
            if target not in names and target not in port_numbers:
                fail(where, f"targetPort {target!r} is not a port of the warrant container")


def check_pdb(objects: Objects, pod_labels, job_labels, replicas: int) -> None:
    pdbs = objects.all("PodDisruptionBudget")
    if not pdbs:
        fail("deploy/k8s", "no PodDisruptionBudget")
    for path, pdb in pdbs:
        where = where_of(path, pdb)
        spec = pdb.get("spec") or {}
        if not subset(dig(spec, "selector", "matchLabels"), pod_labels):
            fail(where, "selector does not match the Deployment's pod labels")
        if job_labels is not None and subset(dig(spec, "selector", "matchLabels"), job_labels):
            fail(where, "selector also matches the migration Job's pods")
        if "minAvailable" in spec and "maxUnavailable" in spec:
            fail(where, "set minAvailable or maxUnavailable, not both")
        minimum = spec.get("minAvailable")
        if isinstance(minimum, int) and minimum >= replicas:
            fail(where, f"minAvailable {minimum} >= replicas {replicas}: no node could ever be drained")
        maximum = spec.get("maxUnavailable")
        if maximum is not None and maximum in (0, "0%"):
            fail(where, "maxUnavailable 0: no node could ever be drained")
        if minimum is None and maximum is None:
            fail(where, "neither minAvailable nor maxUnavailable is set")


def check_hpa(objects: Objects, deployment, container) -> None:
    hpas = objects.all("HorizontalPodAutoscaler")
    if not hpas:
        fail("deploy/k8s", "no HorizontalPodAutoscaler")
    name = dig(deployment[1], "metadata", "name")
    for path, hpa in hpas:
        where = where_of(path, hpa)
        spec = hpa.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        if (target.get("apiVersion"), target.get("kind"), target.get("name")) != ("apps/v1", "Deployment", name):
            fail(where, f"scaleTargetRef {target} is not Deployment {name} (apps/v1)")
        low, high = spec.get("minReplicas", 1), spec.get("maxReplicas", 0)
        if low < 2:
            fail(where, f"minReplicas {low}: keep at least 2 replicas")
        if high < low:
            fail(where, f"maxReplicas {high} < minReplicas {low}")
        if high * POOL_PER_REPLICA > POSTGRES_DEFAULT_CONNECTIONS:
            warn(where, f"maxReplicas {high} x {POOL_PER_REPLICA} pooled connections exceeds PostgreSQL's default max_connections")
        cpu = [m for m in spec.get("metrics") or [] if dig(m, "resource", "name") == "cpu"]
        if not cpu:
            fail(where, "no CPU metric")
        if container and not dig(container, "resources", "requests", "cpu"):
            fail(where, "CPU utilisation needs resources.requests.cpu on the container")


# --------------------------------------------------------------------------
# 3. Compose
# --------------------------------------------------------------------------

INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value) -> str:
    """Compose's ${VAR:-default} / ${VAR:?error} with nothing set: the default, or a placeholder."""
    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        if operator and operator.endswith("-"):
            return argument
        if operator and operator.endswith("?"):
            return f"<{name}>"
        return ""
    return INTERPOLATION.sub(replace, str(value))


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: interpolate(v if v is not None else "") for k, v in env.items()}


def words(value) -> list[str]:
    if value is None:
        return []
    return value.split() if isinstance(value, str) else [str(v) for v in value]


def depends(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def check_compose(documents: dict[Path, list]) -> None:
    docs = documents.get(COMPOSE)
    if not docs:
        fail(rel(COMPOSE), "missing or empty")
        return
    compose = docs[0]
    where = rel(COMPOSE)
    services: dict = compose.get("services") or {}
    for required in ("postgres", "redis", "keys", "migrate", "proxy"):
        if required not in services:
            fail(where, f"no service {required!r}")

    def builds_warrant(svc: dict) -> bool:
        build = svc.get("build")
        if isinstance(build, dict):
            context = (COMPOSE.parent / build.get("context", ".")).resolve()
            return context == ROOT and (context / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE
        return False

    warrant_images = {svc.get("image") for svc in services.values() if builds_warrant(svc)}
    if not warrant_images:
        fail(where, "no service builds deploy/Dockerfile with the repository root as context")

    def is_warrant(svc: dict) -> bool:
        return builds_warrant(svc) or svc.get("image") in warrant_images

    replicas = {name: svc for name, svc in services.items()
                if is_warrant(svc) and not svc.get("entrypoint") and words(svc.get("command")) in ([], ["serve"])}
    if len(replicas) != 2:
        fail(where, f"expected two Warrant replicas running `serve`, found {sorted(replicas)}")

    postgres_hosts = {n for n, s in services.items() if str(s.get("image", "")).startswith("postgres")}
    redis_hosts = {n for n, s in services.items() if str(s.get("image", "")).startswith(("redis", "valkey"))}

    issuers, keys_volumes, prefixes, listen_ports = set(), set(), set(), set()
    database_urls = set()
    for name, svc in replicas.items():
        swhere = f"{where}: service {name}"
        env = environment(svc)
        for variable in env:
            if variable not in KNOWN_VARIABLES:
                fail(swhere, f"{variable} is not a variable Warrant knows (README configuration table)")
        database = urlsplit(env.get("WARRANT_DATABASE_URL", ""))
        if database.scheme not in ("postgres", "postgresql") or database.hostname not in postgres_hosts:
            fail(swhere, f"WARRANT_DATABASE_URL must be postgres:// on the PostgreSQL service {sorted(postgres_hosts)}")
        database_urls.add(env.get("WARRANT_DATABASE_URL"))
        redis_url = urlsplit(env.get("WARRANT_REDIS_URL", ""))
        if redis_url.scheme != "redis" or redis_url.hostname not in redis_hosts:
            fail(swhere, f"WARRANT_REDIS_URL must be redis:// on the Redis service {sorted(redis_hosts)}")
        if not env.get("WARRANT_ISSUER"):
            fail(swhere, "WARRANT_ISSUER is not set: each replica would name itself issuer")
        issuers.add(env.get("WARRANT_ISSUER"))
        prefixes.add(env.get("WARRANT_REDIS_PREFIX", "warrant:"))
        port = listen_port(env.get("WARRANT_LISTEN"), swhere)
        listen_ports.add(port)
        keys_dir = env.get("WARRANT_KEYS_DIR", "/var/lib/warrant/keys")
        mounts = [str(v) for v in svc.get("volumes") or []]
        mount = next((m for m in mounts if m.split(":")[1:2] == [keys_dir]), None)
        if mount is None:
            fail(swhere, f"nothing is mounted at WARRANT_KEYS_DIR ({keys_dir}): every replica needs the same key files")
        else:
            if not mount.endswith(":ro"):
                fail(swhere, f"{keys_dir} must be mounted read-only (:ro) in a replica")
            keys_volumes.add(mount.split(":")[0])
        deps = depends(svc)
        wanted = {**{h: "service_healthy" for h in postgres_hosts | redis_hosts},
                  "migrate": "service_completed_successfully", "keys": "service_completed_successfully"}
        for dependency, condition in wanted.items():
            if deps.get(dependency) != condition:
                fail(swhere, f"depends_on {dependency} should be condition {condition}, is {deps.get(dependency)}")
        if svc.get("restart") in (None, "no"):
            fail(swhere, "no restart policy: a replica must come back after a crash or a lost start-up race")
    if len(issuers) > 1:
        fail(where, f"the replicas have different WARRANT_ISSUER values {sorted(map(str, issuers))}")
    if len(keys_volumes) > 1:
        fail(where, f"the replicas mount different key volumes {sorted(keys_volumes)}")
    if len(prefixes) > 1:
        fail(where, f"the replicas use different WARRANT_REDIS_PREFIX values {sorted(prefixes)}")

    keys = services.get("keys") or {}
    if keys:
        if not any("warrant-gen-keys" in w for w in words(keys.get("entrypoint")) + words(keys.get("command"))):
            fail(f"{where}: service keys", "does not run warrant-gen-keys")
        mounts = [str(v) for v in keys.get("volumes") or []]
        if not any(m.split(":")[0] in keys_volumes and not m.endswith(":ro") for m in mounts):
            fail(f"{where}: service keys", "does not write the volume the replicas read their keys from")
    migrate = services.get("migrate") or {}
    if migrate:
        mwhere = f"{where}: service migrate"
        if not is_warrant(migrate) or words(migrate.get("command")) != ["migrate"]:
            fail(mwhere, "must run `warrant migrate` (the Warrant image, command [migrate])")
        env = environment(migrate)
        if env.get("WARRANT_DATABASE_URL") not in database_urls:
            fail(mwhere, "WARRANT_DATABASE_URL differs from the replicas'")
        for variable in env:
            if variable not in KNOWN_VARIABLES:
                fail(mwhere, f"{variable} is not a variable Warrant knows")
        for host in postgres_hosts:
            if depends(migrate).get(host) != "service_healthy":
                fail(mwhere, f"depends_on {host} should be condition service_healthy")

    for name, svc in services.items():
        for dependency, condition in depends(svc).items():
            if dependency not in services:
                fail(f"{where}: service {name}", f"depends on unknown service {dependency!r}")
            elif condition == "service_healthy" and not services[dependency].get("healthcheck"):
                fail(f"{where}: service {name}", f"waits for {dependency} to be healthy, which has no healthcheck")
        if name != "proxy" and svc.get("ports"):
            fail(f"{where}: service {name}", "publishes a port: only the proxy may")
    proxy = services.get("proxy") or {}
    if proxy:
        published = proxy.get("ports") or []
        if len(published) != 1:
            fail(f"{where}: service proxy", f"should publish exactly one port, publishes {published}")
        container_port = None
        if published:
            entry = published[0]
            target = entry.get("target") if isinstance(entry, dict) else interpolate(entry).rsplit(":", 1)[-1]
            container_port = int(str(target).split("/")[0])
        check_proxy_config(proxy, sorted(replicas), listen_ports, container_port)


def check_proxy_config(proxy: dict, replicas: list[str], listen_ports: set, container_port: int | None) -> None:
    where = f"{rel(COMPOSE)}: service proxy"
    config = None
    for volume in proxy.get("volumes") or []:
        source = str(volume).split(":")[0]
        if source.startswith(".") and (COMPOSE.parent / source).is_file():
            config = (COMPOSE.parent / source).resolve()
    if config is None:
        fail(where, "mounts no configuration file from deploy/")
        return
    cwhere = rel(config)
    text = config.read_text(encoding="utf-8")
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    servers = {}
    for line in lines:
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "server":
            host, _, port = parts[2].rpartition(":")
            servers[host] = (int(port) if port.isdigit() else None, "check" in parts[3:])
    if sorted(servers) != replicas:
        fail(cwhere, f"balances {sorted(servers)}, want the replicas {replicas}")
    for host, (port, checked) in servers.items():
        if port not in listen_ports:
            fail(cwhere, f"server {host} port {port} is not the replicas' WARRANT_LISTEN port {sorted(map(str, listen_ports))}")
        if not checked:
            fail(cwhere, f"server {host} has no health check (`check`)")
    if not re.search(r"^\s*(http-check\s+send\b.*\buri\s+/readyz\b|option\s+httpchk\s+GET\s+/readyz\b)", text, re.M):
        fail(cwhere, "the health check does not ask GET /readyz")
    binds = {int(m.group(1)) for m in re.finditer(r"^\s*bind\s+\S*:(\d+)", text, re.M)}
    if container_port is not None and container_port not in binds:
        fail(cwhere, f"binds {sorted(binds)}, but compose publishes container port {container_port}")


# --------------------------------------------------------------------------
# 4. Dockerfile
# --------------------------------------------------------------------------

def check_dockerfile() -> None:
    where = rel(DOCKERFILE)
    if not DOCKERFILE.is_file():
        fail(where, "missing")
        return
    text = DOCKERFILE.read_text(encoding="utf-8")
    instructions = [line.strip() for line in re.sub(r"\\\n", " ", text).splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    stages = [i for i in instructions if i.upper().startswith("FROM ")]
    if len(stages) < 2:
        fail(where, "not multi-stage (build, then a runtime image)")
    last = instructions[instructions.index(stages[-1]):] if stages else instructions
    users = [i.split()[1] for i in last if i.upper().startswith("USER ")]
    if not users or not users[-1].split(":")[0].isdigit() or users[-1].split(":")[0] == "0":
        fail(where, "the runtime stage must end with a numeric, non-root USER (Kubernetes runAsNonRoot checks it)")
    if not any(i.upper().startswith("ENTRYPOINT") and "warrant" in i for i in last):
        fail(where, "the runtime stage's ENTRYPOINT is not the warrant binary")
    if not re.search(r"cargo build\b[^\n]*--locked[^\n]*-p warrant-server", text):
        fail(where, "does not build warrant-server with --locked")
    for copied in re.findall(r"^COPY\s+(?:--\S+\s+)*(deploy/\S+)", text, re.M):
        if not (ROOT / copied).exists():
            fail(where, f"copies {copied}, which does not exist")
    ignore = DEPLOY / "Dockerfile.dockerignore"
    if not ignore.is_file():
        fail(rel(ignore), "missing: the build context would include target/ and keys/")
    else:
        patterns = {line.strip().lstrip("/") for line in ignore.read_text(encoding="utf-8").splitlines()}
        for needed in ("**/target", "keys", ".git"):
            if needed not in patterns:
                fail(rel(ignore), f"does not exclude {needed}")


# --------------------------------------------------------------------------
# 5. Schemas
# --------------------------------------------------------------------------

def tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def check_schemas(documents: dict[Path, list]) -> None:
    manifests = [str(p) for p in documents if K8S in p.parents and p.name != "kustomization.yaml"]
    validator = tool("kubernetes-validate")
    if validator is None:
        fail("schemas", "kubernetes-validate is not installed: run deploy/validate.sh")
    elif manifests:
        for version in (OLDEST_KUBERNETES, None):
            command = [validator, "--strict", "--quiet", "--no-warn", *(["-k", version] if version else []), *manifests]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                output = (result.stdout + result.stderr).strip()
                fail("schemas", f"Kubernetes {version or 'latest'} schema:\n    " + output.replace("\n", "\n    "))
    checker = tool("check-jsonschema")
    if checker is None:
        fail("schemas", "check-jsonschema is not installed: run deploy/validate.sh")
    elif COMPOSE in documents:
        command = [checker, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            fail("schemas", "Compose specification:\n    " + output.replace("\n", "\n    "))


def check_readme_mentions_variables() -> None:
    """A reminder, not a rule: a known variable the README does not mention yet."""
    readme = ROOT / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        for variable in sorted(KNOWN_VARIABLES):
            if variable not in text:
                warn("README.md", f"does not mention {variable}, which deploy/validate.py accepts")


def main() -> int:
    documents = load_all_yaml()
    check_kubernetes(documents)
    check_compose(documents)
    check_dockerfile()
    if "--no-schemas" not in sys.argv[1:]:
        check_schemas(documents)
    check_readme_mentions_variables()
    for warning in warnings:
        print(f"warning: {warning}")
    if errors:
        print(f"deploy/ is not valid ({len(errors)} problem{'s' if len(errors) != 1 else ''}):", file=sys.stderr)
        for error in errors:
            print(f"  - {error}", file=sys.stderr)
        return 1
    objects = sum(len(d) for p, d in documents.items() if K8S in p.parents and p.name != "kustomization.yaml")
    print(f"deploy/ is valid: {len(documents)} YAML files, {objects} Kubernetes objects, "
          f"the compose file, the proxy configuration and the Dockerfile")
    return 0


if __name__ == "__main__":
    sys.exit(main())
