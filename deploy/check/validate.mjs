// Validates rendered Kubernetes manifests offline, and lints the Dockerfile. Run by
// scripts/check-deploy.sh (which installs the validators into a cache outside the repository):
//
//   node deploy/check/validate.mjs --modules <dir with node_modules> --dockerfile deploy/Dockerfile \
//        <overlay>=<rendered.yaml> [<overlay>=<rendered.yaml> …]
//
// Each object is checked against the Kubernetes OpenAPI schema (the `kubernetes-models` validators:
// types, required fields, formats, enums) and against Bazaar's own rules for what the manifests
// promise (deploy/README.md): every service has a Deployment with non-root, read-only-root,
// all-capabilities-dropped containers, gRPC readiness/liveness probes, requests and limits, and a
// Service, PodDisruptionBudget, HorizontalPodAutoscaler and NetworkPolicy; selectors select
// something; every referenced ConfigMap/Secret/ServiceAccount exists (or is a documented external
// secret); every call one service's policy allows out, the callee's policy allows in (and back);
// every service but identity and the edge has a SERVICE_CLIENT_SECRET that identity's
// IDENTITY_SERVICE_CLIENTS lists (with the right hash, where the overlay generates the Secrets).
// Prints one line per overlay and every problem; exits 1 if there is any.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const args = process.argv.slice(2);
const take = (flag) => {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
};
const modulesDir = take("--modules");
const dockerfile = take("--dockerfile");
if (!modulesDir || args.length === 0) {
  console.error("usage: validate.mjs --modules <dir> [--dockerfile <path>] <overlay>=<rendered.yaml> …");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modulesDir), "package.json"));
const YAML = require("yaml");
const load = async (specifier) => import(pathToFileURL(require.resolve(specifier)).href);
// kubernetes-models exports ESM only (no "require" condition), so its files are addressed directly.
const models = path.join(path.resolve(modulesDir), "node_modules", "kubernetes-models");

/** Secrets the prod overlay expects to exist in the cluster (created by the operator, never in git). */
/** Deployables: a Deployment each, with the full set of companions. */
const services = ["identity", "catalog", "inventory", "cart", "order", "payment", "notification", "shipping", "promotion", "returns", "edge"];
/** Services with a PostgreSQL database of their own (all but the edge). */
const withDatabase = services.filter((s) => s !== "edge");
/**
 * Secrets the prod overlay expects to exist in the cluster (created by the operator, never in git): the
 * shared infrastructure's, Consul's (tokens, gossip key) and Prometheus's Consul token, one per
 * deployable (its service client secret, its Consul token), and per service with a database its own role's URL
 * (<service>-database) and its owner's for the migration Job (<service>-database-owner).
 */
const externalSecrets = new Set([
  "bazaar-infrastructure",
  "consul",
  "prometheus-consul",
  "nats-users",
  ...services,
  ...withDatabase.flatMap((s) => [`${s}-database`, `${s}-database-owner`]),
]);
const infrastructure = ["postgres", "nats", "consul", "otel-collector", "jaeger", "prometheus", "grafana"];

let failures = 0;
const problem = (where, message) => {
  failures += 1;
  console.log(`  ✗ ${where}: ${message}`);
};

async function schemaCheck(object, where) {
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    problem(where, "no apiVersion/kind");
    return;
  }
  let model;
  try {
    model = (await import(pathToFileURL(path.join(models, apiVersion, `${kind}.js`)).href))[kind];
  } catch {
    problem(where, `unknown kind ${apiVersion} ${kind} (no schema)`);
    return;
  }
  // kustomize folds long base64 values over several lines; the API server's decoder skips the line
  // breaks, the schema's "byte" format does not.
  if (kind === "Secret" && object.data) {
    object = { ...object, data: Object.fromEntries(Object.entries(object.data).map(([k, v]) => [k, typeof v === "string" ? v.replace(/\s+/g, "") : v])) };
  }
  try {
    new model(object).validate();
  } catch (error) {
    const details = (error.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
    problem(where, `schema: ${details.length ? details.join("; ") : error.message}`);
  }
}

const podSpecOf = (o) => o.spec?.template?.spec;
const labelsMatch = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

function rulesCheck(objects, overlay) {
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const named = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  // A generated ConfigMap, by its name without kustomize's hash suffix.
  const generated = (name) => objects.find((o) => o.kind === "ConfigMap" && new RegExp(`^${name}(-[a-z0-9]{10})?$`).test(o.metadata?.name ?? ""));
  const workloads = objects.filter((o) => ["Deployment", "StatefulSet"].includes(o.kind));
  const jobs = objects.filter((o) => o.kind === "Job");
  const podLabels = workloads.map((w) => w.spec?.template?.metadata?.labels ?? {});

  for (const o of objects) {
    if (o.kind !== "Namespace" && o.metadata?.namespace !== "bazaar") problem(`${o.kind}/${o.metadata?.name}`, "not in namespace bazaar");
  }
  for (const w of [...workloads, ...jobs]) {
    const where = `${w.kind}/${w.metadata.name}`;
    const pod = podSpecOf(w);
    if (w.kind !== "Job" && !labelsMatch(w.spec.selector?.matchLabels, w.spec.template?.metadata?.labels)) problem(where, "selector does not match its pod template labels");
    if (pod.securityContext?.runAsNonRoot !== true) problem(where, "pod securityContext.runAsNonRoot is not true");
    if (pod.securityContext?.seccompProfile?.type !== "RuntimeDefault") problem(where, "pod seccompProfile is not RuntimeDefault");
    for (const c of pod.containers ?? []) {
      const cw = `${where} container ${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) problem(cw, "readOnlyRootFilesystem is not true");
      if (sc.allowPrivilegeEscalation !== false) problem(cw, "allowPrivilegeEscalation is not false");
      if (!(sc.capabilities?.drop ?? []).includes("ALL")) problem(cw, "capabilities do not drop ALL");
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory) problem(cw, "no cpu/memory requests");
      if (!c.resources?.limits?.memory || !c.resources?.limits?.cpu) problem(cw, "no cpu/memory limits");
      if (w.kind !== "Job" && (!c.readinessProbe || !c.livenessProbe)) problem(cw, "no readiness/liveness probe");
      if (overlay === "prod" && !/^[^@]+:[^:/@]+(@sha256:[0-9a-f]{64})?$|@sha256:[0-9a-f]{64}$/.test(c.image ?? "")) problem(cw, `image ${c.image} has no version tag or digest`);
      if (overlay === "prod" && /:latest(@|$)/.test(c.image ?? "")) problem(cw, `image ${c.image} is :latest (prod pins a version or digest)`);
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef && !named("ConfigMap", from.configMapRef.name)) problem(cw, `envFrom ConfigMap ${from.configMapRef.name} does not exist`);
      }
      for (const env of c.env ?? []) {
        const ref = env.valueFrom?.secretKeyRef;
        if (!ref) continue;
        const secret = named("Secret", ref.name);
        if (secret) {
          const keys = { ...secret.data, ...secret.stringData };
          if (!(ref.key in keys)) problem(cw, `Secret ${ref.name} has no key ${ref.key}`);
        } else if (!(overlay === "prod" && externalSecrets.has(ref.name))) {
          problem(cw, `Secret ${ref.name} does not exist`);
        }
      }
    }
    for (const v of pod.volumes ?? []) {
      if (v.configMap && !named("ConfigMap", v.configMap.name)) problem(where, `volume ConfigMap ${v.configMap.name} does not exist`);
    }
    if (pod.serviceAccountName && !named("ServiceAccount", pod.serviceAccountName)) problem(where, `ServiceAccount ${pod.serviceAccountName} does not exist`);
  }
  for (const s of byKind("Service")) {
    if (s.spec?.selector && !podLabels.some((labels) => labelsMatch(s.spec.selector, labels))) problem(`Service/${s.metadata.name}`, "selects no pod");
  }
  for (const name of services) {
    const d = named("Deployment", name);
    if (!d) {
      problem(name, "no Deployment");
      continue;
    }
    for (const kind of ["Service", "ServiceAccount", "ConfigMap", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy"]) {
      if (!named(kind, name)) problem(name, `no ${kind}`);
    }
    const c = podSpecOf(d).containers[0];
    if (!c.readinessProbe?.grpc || !c.livenessProbe?.grpc) problem(`Deployment/${name}`, "readiness/liveness probes are not native gRPC");
    const replicas = d.spec.replicas ?? 1;
    const hpa = named("HorizontalPodAutoscaler", name);
    if (overlay === "dev" && (replicas !== 1 || hpa?.spec.maxReplicas !== 1)) problem(`Deployment/${name}`, "dev runs exactly one replica");
    if (overlay === "prod" && (replicas < 2 || (hpa?.spec.minReplicas ?? 1) < 2 || hpa?.spec.maxReplicas <= hpa?.spec.minReplicas)) {
      problem(`Deployment/${name}`, "prod runs at least two replicas and autoscales above them");
    }
    const pdb = named("PodDisruptionBudget", name);
    if (pdb && !labelsMatch(pdb.spec.selector?.matchLabels, d.spec.template.metadata.labels)) problem(`PodDisruptionBudget/${name}`, "selects no pod of its Deployment");
    const np = named("NetworkPolicy", name);
    if (np && !labelsMatch(np.spec.podSelector?.matchLabels, d.spec.template.metadata.labels)) problem(`NetworkPolicy/${name}`, "does not select its Deployment's pods");
  }
  for (const name of infrastructure) {
    if (!workloads.some((w) => w.metadata.name === name)) problem(name, "no workload");
    if (!named("Service", name)) problem(name, "no Service");
  }
  if (!objects.some((o) => o.kind === "NetworkPolicy" && Object.keys(o.spec?.podSelector ?? {}).length === 0 && !o.spec.ingress && !o.spec.egress)) {
    problem("NetworkPolicy", "no default-deny policy");
  }
  // Only the edge may take traffic from outside the namespace: every other service's ingress rules
  // name the pods they accept.
  for (const np of byKind("NetworkPolicy")) {
    if (np.metadata.name === "edge") continue;
    for (const rule of np.spec?.ingress ?? []) {
      if (!rule.from || rule.from.length === 0) problem(`NetworkPolicy/${np.metadata.name}`, "an ingress rule admits every source (only the edge may)");
    }
  }
  // Calls between services need both halves: the caller's egress and the callee's ingress.
  const peersOf = (np, direction) =>
    (np?.spec?.[direction] ?? []).flatMap((rule) => (rule[direction === "ingress" ? "from" : "to"] ?? []).map((p) => p.podSelector?.matchLabels?.["app.kubernetes.io/name"]));
  for (const caller of services) {
    for (const callee of peersOf(named("NetworkPolicy", caller), "egress").filter((n) => services.includes(n))) {
      if (!peersOf(named("NetworkPolicy", callee), "ingress").includes(caller)) problem(`NetworkPolicy/${callee}`, `${caller} may call ${callee} (its egress) but ${callee} does not admit ${caller}`);
    }
  }
  for (const callee of services) {
    for (const caller of peersOf(named("NetworkPolicy", callee), "ingress").filter((n) => services.includes(n))) {
      if (!peersOf(named("NetworkPolicy", caller), "egress").includes(callee)) problem(`NetworkPolicy/${caller}`, `${callee} admits ${caller} but ${caller}'s egress does not allow ${callee}`);
    }
  }
  // Service tokens: every service but identity (the issuer) and the edge (it forwards its callers'
  // tokens) proves itself with SERVICE_CLIENT_SECRET; identity knows each one's SHA-256. Where the
  // overlay generates the Secrets (dev), the hashes must match them.
  const secretEnv = (deployment, variable) => podSpecOf(deployment)?.containers?.[0]?.env?.find((e) => e.name === variable)?.valueFrom?.secretKeyRef;
  const secretValue = (ref) => {
    const data = ref && named("Secret", ref.name)?.data?.[ref.key];
    return data === undefined ? undefined : Buffer.from(String(data).replace(/\s+/g, ""), "base64").toString("utf8");
  };
  const clientsRef = secretEnv(named("Deployment", "identity"), "IDENTITY_SERVICE_CLIENTS");
  if (!clientsRef) problem("Deployment/identity", "no IDENTITY_SERVICE_CLIENTS from a Secret");
  const clientsValue = secretValue(clientsRef);
  const clients = clientsValue === undefined ? undefined : new Map(clientsValue.split(",").filter(Boolean).map((pair) => pair.trim().split("=", 2)));
  for (const name of services.filter((n) => n !== "identity" && n !== "edge")) {
    const ref = secretEnv(named("Deployment", name), "SERVICE_CLIENT_SECRET");
    if (!ref) {
      problem(`Deployment/${name}`, "no SERVICE_CLIENT_SECRET from a Secret");
      continue;
    }
    if (!clients) continue;
    const secret = secretValue(ref);
    if (!clients.has(name)) problem(`Secret/${clientsRef.name}`, `IDENTITY_SERVICE_CLIENTS does not list ${name}`);
    else if (secret !== undefined && clients.get(name) !== createHash("sha256").update(secret).digest("hex")) {
      problem(`Secret/${clientsRef.name}`, `IDENTITY_SERVICE_CLIENTS: ${name}'s hash is not the SHA-256 of its SERVICE_CLIENT_SECRET`);
    }
  }
  // Migrations: in prod the services never migrate; a Job per service applies its migrations as its
  // database's owner, with the Deployment's variables, and the services connect as their own roles.
  const platformData = named("ConfigMap", "bazaar-platform")?.data ?? {};
  if (overlay === "prod") {
    if (platformData.MIGRATE_ON_START !== "false") problem("ConfigMap/bazaar-platform", "prod sets MIGRATE_ON_START=false (the migration Jobs migrate)");
    for (const name of withDatabase) {
      const d = named("Deployment", name);
      const job = named("Job", `migrate-${name}`);
      const dbRef = secretEnv(d, "DATABASE_URL");
      if (dbRef?.name !== `${name}-database`) problem(`Deployment/${name}`, `DATABASE_URL is not from its own Secret ${name}-database`);
      if (d?.metadata?.labels?.["bazaar.dev/phase"] !== "rollout") problem(`Deployment/${name}`, "no label bazaar.dev/phase=rollout (applied after the migrations)");
      if (!job) {
        problem(name, `no migration Job migrate-${name}`);
        continue;
      }
      const c = podSpecOf(job).containers[0];
      if (job.metadata?.labels?.["bazaar.dev/phase"] === "rollout") problem(`Job/${job.metadata.name}`, "labelled bazaar.dev/phase=rollout: it would start with the services instead of before them");
      if (c.args?.at(-1) !== "migrate") problem(`Job/${job.metadata.name}`, "does not run the service's main with the argument migrate");
      if (c.image !== podSpecOf(d).containers[0].image) problem(`Job/${job.metadata.name}`, `image ${c.image} is not the Deployment's ${podSpecOf(d).containers[0].image}`);
      if (secretEnv(job, "DATABASE_URL")?.name !== `${name}-database-owner`) problem(`Job/${job.metadata.name}`, `DATABASE_URL is not from ${name}-database-owner`);
      const jobEnv = new Set((c.env ?? []).map((e) => e.name));
      // Not its Consul token: a migration never talks to Consul.
      for (const e of podSpecOf(d).containers[0].env ?? []) if (e.name !== "CONSUL_HTTP_TOKEN" && !jobEnv.has(e.name)) problem(`Job/${job.metadata.name}`, `lacks the Deployment's ${e.name} (loadConfig needs the same variables)`);
      const envFrom = (x) => (x.envFrom ?? []).map((f) => f.configMapRef?.name ?? f.secretRef?.name).join(",");
      if (envFrom(c) !== envFrom(podSpecOf(d).containers[0])) problem(`Job/${job.metadata.name}`, "envFrom differs from the Deployment's");
    }
  } else if (platformData.MIGRATE_ON_START !== "true") {
    problem("ConfigMap/bazaar-platform", `${overlay} migrates at start (MIGRATE_ON_START=true): it has no migration Jobs`);
  }
  // Consul in prod: ACLs on with default deny, gossip encrypted with a key from a Secret, and every
  // deployable with a token of its own.
  if (overlay === "prod") {
    const consul = named("StatefulSet", "consul");
    const c = podSpecOf(consul)?.containers?.[0];
    const acl = generated("consul-acl")?.data?.["acl.hcl"] ?? "";
    if (!/enabled\s*=\s*true/.test(acl) || !/default_policy\s*=\s*"deny"/.test(acl)) problem("ConfigMap/consul-acl", "ACLs are not enabled with default_policy deny");
    if (!c?.args?.includes("-config-file=/consul/acl/acl.hcl")) problem("StatefulSet/consul", "does not load the ACL settings");
    if (!c?.args?.includes("-encrypt=$(CONSUL_GOSSIP_KEY)") || c.env?.find((e) => e.name === "CONSUL_GOSSIP_KEY")?.valueFrom?.secretKeyRef?.name !== "consul") {
      problem("StatefulSet/consul", "gossip is not encrypted with CONSUL_GOSSIP_KEY from the consul Secret");
    }
    for (const name of services) {
      if (secretEnv(named("Deployment", name), "CONSUL_HTTP_TOKEN")?.name !== name) problem(`Deployment/${name}`, `no CONSUL_HTTP_TOKEN from its own Secret ${name}`);
    }
  }
  // NATS in prod: a user per service (subject permissions in nats.conf), each service reaching NATS as
  // its own user (NATS_URL from its own Secret) and the servers taking the passwords from nats-users.
  if (overlay === "prod") {
    const conf = generated("nats-config")?.data?.["nats.conf"] ?? "";
    if (!/authorization\s*\{/.test(conf)) problem("ConfigMap/nats-config", "no authorization block (per-service users)");
    const natsEnv = podSpecOf(named("StatefulSet", "nats"))?.containers?.[0]?.env ?? [];
    for (const name of withDatabase) {
      if (!new RegExp(`user:\\s*${name}\\s*\\n\\s*password:\\s*\\$NATS_PASSWORD_${name.toUpperCase()}\\b`).test(conf)) problem("ConfigMap/nats-config", `no NATS user ${name} with password $NATS_PASSWORD_${name.toUpperCase()}`);
      if (natsEnv.find((e) => e.name === `NATS_PASSWORD_${name.toUpperCase()}`)?.valueFrom?.secretKeyRef?.name !== "nats-users") problem("StatefulSet/nats", `no NATS_PASSWORD_${name.toUpperCase()} from the nats-users Secret`);
      if (secretEnv(named("Deployment", name), "NATS_URL")?.name !== name) problem(`Deployment/${name}`, `NATS_URL is not from its own Secret ${name} (its NATS user)`);
    }
  }
  const nats = named("StatefulSet", "nats");
  if (overlay === "prod" && nats?.spec.replicas !== 3) problem("StatefulSet/nats", "prod runs a 3-node NATS cluster");
}

function lintDockerfile(file, validate) {
  const text = readFileSync(file, "utf8");
  const diagnostics = validate(text, { deprecatedMaintainer: 1, emptyContinuationLine: 1, instructionCasing: 1, instructionJSONInSingleQuotes: 1 });
  for (const d of diagnostics) {
    problem(`${file}:${d.range.start.line + 1}`, `${d.severity === 1 ? "error" : "warning"}: ${d.message}`);
  }
  const lines = text.split("\n");
  if (!lines.some((l) => /^USER\s+(?!root|0\b)/.test(l))) problem(file, "no non-root USER");
  if (!lines.some((l) => /^FROM\s+\S*node:24/.test(l) || /^ARG NODE_IMAGE=node:24/.test(l))) problem(file, "not built on Node 24");
  return diagnostics.length;
}

let total = 0;
for (const arg of args) {
  const [overlay, file] = arg.split("=");
  const before = failures;
  const objects = YAML.parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS()).filter(Boolean);
  console.log(`${overlay}: ${objects.length} objects`);
  for (const o of objects) await schemaCheck(o, `${overlay} ${o.kind}/${o.metadata?.name}`);
  rulesCheck(objects, overlay);
  const kinds = {};
  for (const o of objects) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
  console.log(`  ${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ")}`);
  console.log(failures === before ? `  ✓ ${overlay}: every object valid` : `  ✗ ${overlay}: ${failures - before} problem(s)`);
  total += objects.length;
}
if (dockerfile) {
  const before = failures;
  const { validate } = await load("dockerfile-utils");
  lintDockerfile(dockerfile, validate);
  console.log(failures === before ? `✓ ${dockerfile}: lints clean` : `✗ ${dockerfile}: ${failures - before} problem(s)`);
}
console.log(failures === 0 ? `deploy check passed: ${total} objects in ${args.length} overlays` : `deploy check FAILED: ${failures} problem(s)`);
process.exit(failures === 0 ? 0 : 1);
