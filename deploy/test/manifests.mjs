// Reads the rendered manifests (kubectl kustomize output) on stdin and, by its first argument:
//   validate          checks every object against the Kubernetes API schema, offline, from
//                     kubernetes-models (the OpenAPI schemas of a current Kubernetes release and of the
//                     Prometheus Operator's CRDs): types, formats, enums and required fields with its
//                     validators, unknown fields (which the API server refuses: kubectl's strict field
//                     validation) with TypeScript's excess property check against its interfaces; and
//                     refuses alpha, beta and other non-GA API versions. Exit 1 listing every problem.
//   pod IMAGE NAME    prints the DaemonSet's pod template as a Pod named NAME (what a node runs)
//                     with IMAGE as every container's image, and the ConfigMaps its volumes use,
//                     for `podman kube play` (restartPolicy Never: see there why).
//   podman-run-args DIR [NAME]  prints, one a line, the podman run options that give a container (the
//                     first, or the one named NAME, init containers too) what the DaemonSet gives it:
//                     host pid namespace, capabilities, environment, host mounts, and its ConfigMap
//                     volumes as files written below DIR.
//   args              prints the container's arguments, one a line.
//   command NAME      prints the command and arguments of the container NAME, each ended by a NUL.
import { parseAllDocuments, stringify } from "yaml";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const docs = parseAllDocuments(readFileSync(0, "utf8")).map((d) => {
  if (d.errors.length) throw new Error(`YAML: ${d.errors[0].message}`);
  return d.toJS();
}).filter((o) => o);

const fail = (msg) => { console.error(`manifests: ${msg}`); process.exit(1); };
const daemonSet = () => docs.find((o) => o.kind === "DaemonSet") ?? fail("no DaemonSet in the input");
const container = (name) => { const spec = daemonSet().spec.template.spec;
  return [...spec.containers, ...(spec.initContainers ?? [])].find((c) => c.name === name) ?? fail(`no container ${name}`); };

/** The module of a kind in kubernetes-models: exports the model class KIND and its interface IKIND. */
function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  return group === "monitoring.coreos.com"
    ? `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`
    : `kubernetes-models/${group ? `${group}/` : ""}${version}/${kind}`;
}

async function model(apiVersion, kind) {
  try {
    return (await import(modulePath(apiVersion, kind)))[kind];
  } catch {
    return undefined;
  }
}

/** Unknown fields: each object as a literal typed with its interface; tsc reports excess properties. */
function unknownFields(objects) {
  const dir = mkdtempSync(join(dirname(fileURLToPath(import.meta.url)), "node_modules", ".check-"));
  try {
    const file = join(dir, "manifests.ts");
    writeFileSync(file, objects.map((o, i) =>
      `import type { I${o.kind} as T${i} } from "${modulePath(o.apiVersion, o.kind)}";\n` +
      `export const o${i}: T${i} = ${JSON.stringify(o, null, 1)};\n`).join(""));
    const program = ts.createProgram([file], {
      noEmit: true, strict: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const line = d.file ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
      const text = d.file ? d.file.text.split("\n") : [];
      // the object this line belongs to: the nearest "export const oN" above it
      let i = line; while (i > 0 && !text[i].startsWith("export const o")) i--;
      const o = objects[Number(/^export const o(\d+)/.exec(text[i] ?? "")?.[1] ?? 0)];
      return `${o.kind} ${o.metadata?.name}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function validate() {
  const problems = [], known = [];
  for (const o of docs) {
    const what = `${o.kind ?? "?"} ${o.metadata?.name ?? "?"} (${o.apiVersion ?? "?"})`;
    // GA versions only: alpha and beta APIs are deprecated or removed in current releases.
    if (!/^([a-z0-9.-]+\/)?v[0-9]+$/.test(o.apiVersion ?? "")) { problems.push(`${what}: not a GA API version`); continue; }
    const Model = await model(o.apiVersion, o.kind);
    if (!Model) { problems.push(`${what}: no such kind in the current API`); continue; }
    try {
      new Model(o).validate();
    } catch (e) {
      problems.push(`${what}: ${e.message}`);
    }
    known.push(o);
  }
  problems.push(...unknownFields(known));
  if (problems.length) fail(`${problems.length} invalid:\n  ${problems.join("\n  ")}`);
  console.log(`manifests: ${docs.length} objects valid (${docs.map((o) => o.kind).join(", ")})`);
}

function pod(image, name) {
  const ds = daemonSet();
  const spec = structuredClone(ds.spec.template.spec);
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) c.image = image;
  const configMaps = spec.volumes.filter((v) => v.configMap).map((v) => docs.find((o) =>
    o.kind === "ConfigMap" && o.metadata.name === v.configMap.name) ?? fail(`no ConfigMap ${v.configMap.name}`));
  // podman 4.3 removes a "once" init container while it may still be running and then fails the
  // play ("cannot remove container ... as it is running"); "always" keeps it (it still runs first).
  const annotations = { ...ds.spec.template.metadata.annotations, "io.podman.annotations.init.container.type": "always" };
  // podman 4.3 gives init containers the pod's restart policy (fixed upstream in 2023, podman PR
  // 18481): under the DaemonSet's Always, an init container that exited 0 is started again and again
  // while the pod lives, so what it installs is rewritten all the time and a check can catch it
  // halfway. With Never, each container runs once and the others start after the init containers
  // exited 0.
  spec.restartPolicy = "Never";
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name, labels: ds.spec.template.metadata.labels, annotations }, spec };
  process.stdout.write([pod, ...configMaps].map((o) => stringify(o)).join("---\n"));
}

function podmanRunArgs(dir, name) {
  const spec = daemonSet().spec.template.spec;
  const c = name ? container(name) : spec.containers[0];
  const args = [];
  if (spec.hostPID) args.push("--pid=host");
  args.push("--cap-drop=all");
  const add = c.securityContext.capabilities.add ?? [];
  if (add.length) args.push(`--cap-add=${add.join(",")}`);
  if (c.securityContext.readOnlyRootFilesystem) args.push("--read-only");
  for (const e of c.env ?? []) args.push(`--env=${e.name}=${e.value}`);
  const volumes = Object.fromEntries(spec.volumes.map((v) => [v.name, v]));
  for (const m of c.volumeMounts) {
    const v = volumes[m.name];
    if (v.hostPath) {
      const opts = [m.readOnly ? "ro" : "rw"];
      if (m.mountPropagation === "HostToContainer") opts.push("rslave");
      args.push(`--volume=${v.hostPath.path}:${m.mountPath}:${opts.join(",")}`);
    } else if (v.emptyDir) {
      args.push(`--tmpfs=${m.mountPath}`);
    } else if (v.configMap) {
      const cm = docs.find((o) => o.kind === "ConfigMap" && o.metadata.name === v.configMap.name)
        ?? fail(`no ConfigMap ${v.configMap.name}`);
      const d = join(dir, v.name);
      mkdirSync(d, { recursive: true });
      for (const [k, text] of Object.entries(cm.data)) writeFileSync(join(d, k), text, { mode: v.configMap.defaultMode ?? 0o644 });
      args.push(`--volume=${d}:${m.mountPath}:ro`);
    } else {
      fail(`volume ${v.name}: only hostPath, emptyDir and configMap volumes are known here`);
    }
  }
  console.log(args.join("\n"));
}

const [cmd, arg] = process.argv.slice(2);
if (cmd === "validate") await validate();
else if (cmd === "pod" && arg && process.argv[4]) pod(arg, process.argv[4]);
else if (cmd === "podman-run-args" && arg) podmanRunArgs(arg, process.argv[4]);
else if (cmd === "args") console.log(daemonSet().spec.template.spec.containers[0].args.join("\n"));
else if (cmd === "command" && arg) { const c = container(arg); process.stdout.write([...c.command, ...c.args].map((s) => `${s}\0`).join("")); }
else fail("usage: manifests.mjs validate | pod IMAGE NAME | podman-run-args DIR [NAME] | args | command NAME");
