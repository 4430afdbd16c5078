// The deployment files, checked as far as this machine allows (no container engine, no cluster,
// no Slurm): the Kubernetes manifests against the API's schemas (kubernetes-models, the
// equivalent of kubeconform), the Dockerfile linted (dockerfile-utils), and what each of them
// runs, run here against a real `ridge` (GPU work on Mesa's lavapipe). Run by `cargo xtask
// deploy`, which sets RIDGE_BIN to a ridge with the browser tool built in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { DockerfileParser } from 'dockerfile-ast';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = resolve(process.env.RIDGE_BIN || join(root, 'target', 'debug', 'ridge'));
const K8S = join(root, 'deploy', 'k8s');
const SLURM = join(root, 'deploy', 'slurm', 'ridge-run.sbatch');
// GPU work on the CPU: Mesa's lavapipe through Vulkan.
const GPU_ENV = { WGPU_BACKEND: 'vulkan', XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR || tmpdir() };
const SCHEMAS = { 'batch/v1 Job': Job, 'apps/v1 Deployment': Deployment, 'v1 Service': Service };
// The same models' TypeScript interfaces, for the strict check: no field the API does not have.
const INTERFACES = {
  'batch/v1 Job': ['kubernetes-models/batch/v1/Job', 'IJob'],
  'apps/v1 Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'v1 Service': ['kubernetes-models/v1/Service', 'IService'],
};
const DEPLOY_TESTS = dirname(fileURLToPath(import.meta.url));

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ridge-deploy-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every document of every manifest in deploy/k8s, with the file it came from. */
function manifests() {
  const docs = [];
  for (const file of readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
      assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
      docs.push({ file, object: doc.toJS() });
    }
  }
  return docs;
}

const find = (kind) => {
  const found = manifests().filter((d) => d.object.kind === kind);
  assert.equal(found.length, 1, `one ${kind} in deploy/k8s`);
  return found[0].object;
};

/** The value after `flag` in an argument list. */
function valueOf(args, flag) {
  const i = args.indexOf(flag);
  assert.ok(i >= 0 && i + 1 < args.length, `${flag} in ${args.join(' ')}`);
  return args[i + 1];
}

/** `args` with the value after each flag in `values` replaced. */
function withValues(args, values) {
  const out = [...args];
  for (const [flag, value] of Object.entries(values)) out[out.indexOf(flag) + 1] = value;
  for (const flag of Object.keys(values)) assert.ok(args.includes(flag), `${flag} in ${args.join(' ')}`);
  return out;
}

/** Starts `ridge ARGS` as a server in `cwd`; resolves to [child, base URL] once it listens. */
async function serve(args, env, cwd) {
  const child = spawn(BIN, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) ok(m[1]);
    });
    child.on('exit', (code) => fail(new Error(`ridge ${args.join(' ')} exited with ${code}: ${err}`)));
  });
  return [child, url];
}

async function runsOn(url) {
  const r = await fetch(`${url}/api/v1/runs`);
  assert.equal(r.status, 200);
  return (await r.json()).runs;
}

test('every Kubernetes manifest passes the API schema of its kind, and the checker catches a broken one', () => {
  const docs = manifests();
  assert.deepEqual(docs.map((d) => `${d.file}: ${d.object.kind}`), ['run-job.yaml: Job', 'serve.yaml: Deployment', 'serve.yaml: Service']);
  for (const { file, object } of docs) {
    const Model = SCHEMAS[`${object.apiVersion} ${object.kind}`];
    assert.ok(Model, `${file}: no schema for ${object.apiVersion} ${object.kind}`);
    assert.doesNotThrow(() => new Model(object).validate(), `${file}: ${object.kind}`);
  }
  // The same check on a copy with a mistake a hand edit makes: a count written as a word.
  const job = structuredClone(find('Job'));
  job.spec.completions = 'four';
  assert.throws(() => new Job(job).validate(), /completions must be integer/);
  const deployment = structuredClone(find('Deployment'));
  delete deployment.spec.template.spec.containers[0].name;
  assert.throws(() => new Deployment(deployment).validate(), /required property 'name'|required property name/);
});

/**
 * The strict check (kubeconform's `-strict`): each document as an object literal typed with its
 * kind's interface, compiled by tsc, whose excess-property check names any field, at any depth,
 * that the Kubernetes API does not have. Returns tsc's messages, each with the document's name.
 */
function unknownFields(docs) {
  // Under node_modules, so that the models resolve; one document a line, so a message names it.
  const at = join(DEPLOY_TESTS, 'node_modules', '.cache', 'ridge-strict');
  mkdirSync(at, { recursive: true });
  const imports = Object.values(INTERFACES).map(([from, name]) => `import type { ${name} } from '${from}';`);
  const lines = docs.map(({ object }, i) => `const doc${i}: ${INTERFACES[`${object.apiVersion} ${object.kind}`][1]} = ${JSON.stringify(object)};`);
  const source = [...imports, ...lines, `export default [${docs.map((_, i) => `doc${i}`).join(', ')}];`].join('\n');
  writeFileSync(join(at, 'manifests.ts'), source);
  const tsc = spawnSync(join(DEPLOY_TESTS, 'node_modules', '.bin', 'tsc'), ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', join(at, 'manifests.ts')], { encoding: 'utf8' });
  const messages = tsc.stdout.split('\n').filter((l) => /error TS/.test(l)).map((l) => {
    const line = Number(l.match(/\.ts\((\d+),/)?.[1]) - imports.length - 1;
    const doc = docs[line];
    return doc ? `${doc.file} (${doc.object.kind}): ${l.replace(/^.*error TS\d+: /, '')}` : l;
  });
  assert.ok(tsc.status === 0 || messages.length, `tsc failed without a message: ${tsc.stdout}${tsc.stderr}`);
  return messages;
}

test('no manifest has a field the Kubernetes API does not (strict), and a misspelt one is named', () => {
  const docs = manifests();
  assert.deepEqual(unknownFields(docs), []);
  const typo = structuredClone(docs);
  // tsc names the first unknown field of each document.
  const job = typo.find((d) => d.object.kind === 'Job').object;
  job.spec.template.spec.containers[0].argz = job.spec.template.spec.containers[0].args;
  typo.find((d) => d.object.kind === 'Deployment').object.spec.template.spec.terminationGracePeriod = 30;
  const found = unknownFields(typo);
  assert.equal(found.length, 2, found.join('\n'));
  assert.match(found[0], /^run-job\.yaml \(Job\):.*'"argz"' does not exist in type 'IContainer'/);
  assert.match(found[1], /^serve\.yaml \(Deployment\):.*'"terminationGracePeriod"' does not exist in type 'IPodSpec'/);
});

test('the manifests agree with each other: selectors, ports, one pod per node, the Secrets README makes', () => {
  const deployment = find('Deployment');
  const service = find('Service');
  const job = find('Job');
  const labels = deployment.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(labels[k], v, `Deployment selector ${k}`);
  for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(labels[k], v, `Service selector ${k}`);
  const container = deployment.spec.template.spec.containers[0];
  const port = container.ports.find((p) => p.name === service.spec.ports[0].targetPort);
  assert.ok(port, `the Service's targetPort ${service.spec.ports[0].targetPort} is a port of the container`);
  assert.equal(Number(valueOf(container.args, '--addr').split(':').pop()), port.containerPort);
  for (const probe of [container.readinessProbe, container.livenessProbe]) assert.equal(probe.httpGet.port, port.name);
  // The grace the pod gets covers ridge's own.
  assert.ok(deployment.spec.template.spec.terminationGracePeriodSeconds > parseInt(valueOf(container.args, '--shutdown-grace'), 10));

  // One pod per node: pods of this Job repel each other on a node's hostname.
  const spec = job.spec.template.spec;
  const [rule] = spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  assert.equal(rule.topologyKey, 'kubernetes.io/hostname');
  assert.deepEqual(rule.labelSelector.matchLabels, { 'batch.kubernetes.io/job-name': job.metadata.name });
  assert.equal(job.spec.parallelism, job.spec.completions, 'every node at once');
  // The Job uploads to the Service by its name and port.
  const upload = new URL(valueOf(spec.containers[0].args, '--upload'));
  assert.equal(upload.hostname, service.metadata.name);
  assert.equal(Number(upload.port), service.spec.ports[0].port);

  // The Secrets both refer to are the ones README tells how to make.
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const ref of [container.env.find((e) => e.name === 'RIDGE_DB'), spec.containers[0].env.find((e) => e.name === 'RIDGE_TOKEN')]) {
    const { name, key } = ref.valueFrom.secretKeyRef;
    assert.match(readme, new RegExp(`kubectl create secret generic ${name} --from-literal=${key}=`), `README makes Secret ${name} with ${key}`);
  }
});

test('the Dockerfile lints clean, builds with the pinned toolchain, and its commands work here', async () => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  assert.deepEqual(lintDockerfile(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`), []);
  const file = DockerfileParser.parse(text);
  const pinned = readFileSync(join(root, 'rust-toolchain.toml'), 'utf8').match(/channel = "([^"]+)"/)[1];
  const rustVersion = file.getInitialARGs().flatMap((a) => a.getProperties()).find((p) => p.getName() === 'RUST_VERSION');
  assert.equal(rustVersion?.getValue(), pinned, 'ARG RUST_VERSION is rust-toolchain.toml\'s channel');
  const [build, runtime] = file.getFROMs();
  assert.equal(build.getBuildStage(), 'build');
  assert.match(build.getImage(), /^rust:\$\{RUST_VERSION\}-/);
  const words = (i) => i.getArguments().map((a) => a.getValue());

  // The build stage's cargo commands, run here as written, less --release (a release build is
  // the same code at a quarter of an hour on two cores) and the commit variable.
  const runs = file.getInstructions().filter((i) => i.getKeyword() === 'RUN').map((i) => i.getArgumentsContent().replace(/\\\n/g, ' '));
  const cargo = runs.flatMap((r) => r.split('&&')).map((c) => c.replace(/--mount=\S+/g, '').trim()).filter((c) => /(^|\s)cargo /.test(c));
  assert.equal(cargo.length, 2, cargo.join(' | '));
  assert.equal(cargo[0], 'cargo xtask web');
  const args = cargo[1].replace(/^RIDGE_GIT_COMMIT=\S+\s+/, '').split(/\s+/);
  assert.deepEqual(args.slice(0, 3), ['cargo', 'build', '--release']);
  const built = spawnSync('cargo', args.filter((a) => a !== '--release').slice(1), { cwd: root, encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  const copied = file.getInstructions().find((i) => i.getKeyword() === 'COPY' && i.getFromFlag()?.getValue() === 'build');
  assert.ok(runs.some((r) => r.includes(`install -D target/release/ridge ${words(copied)[0]}`)), 'the runtime copies what the build installed');
  assert.equal(words(copied)[1], '/usr/local/bin/ridge');

  // The runtime stage: ENTRYPOINT and CMD, run from an empty directory (no web/ beside it: the
  // page must come from the binary), on a free port and a database under the test's directory.
  assert.equal(runtime.getImage(), 'debian:bookworm-slim');
  const entry = JSON.parse(file.getInstructions().find((i) => i.getKeyword() === 'ENTRYPOINT').getArgumentsContent());
  const cmd = JSON.parse(file.getInstructions().find((i) => i.getKeyword() === 'CMD').getArgumentsContent());
  assert.deepEqual(entry, ['ridge']);
  const exposed = file.getInstructions().find((i) => i.getKeyword() === 'EXPOSE').getArgumentsContent();
  assert.equal(valueOf(cmd, '--addr'), `0.0.0.0:${exposed}`);
  const cwd = join(dir, 'container');
  mkdirSync(cwd);
  const [child, url] = await serve(withValues(cmd, { '--addr': '127.0.0.1:0', '--db': join(cwd, 'ridge.db') }), {}, cwd);
  try {
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.equal(await page.text(), readFileSync(join(root, 'web', 'index.html'), 'utf8'));
    const wasm = await fetch(`${url}/pkg/ridge_wasm_bg.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.ok(Buffer.from(await wasm.arrayBuffer()).equals(readFileSync(join(root, 'web', 'pkg', 'ridge_wasm_bg.wasm'))));
    const tag = wasm.headers.get('etag');
    assert.match(tag, /^"[0-9a-f]{64}"$/);
    assert.equal((await fetch(`${url}/pkg/ridge_wasm_bg.wasm`, { headers: { 'if-none-match': tag } })).status, 304);
    assert.equal((await fetch(`${url}/no-such-file.js`)).status, 404);
  } finally {
    child.kill();
  }
});

test('the Deployment\'s ridge serve and the Job\'s ridge run work together: the run is stored', async () => {
  const deployment = find('Deployment');
  const job = find('Job');
  const db = join(dir, 'k8s.db');
  // The token the Secret holds, made as README says (PostgreSQL there; an SQLite file here).
  const token = execFileSync(BIN, ['token', 'add', 'fleet', '--db', db], { encoding: 'utf8' }).trim();
  const serveArgs = deployment.spec.template.spec.containers[0].args;
  const [child, url] = await serve(withValues(serveArgs, { '--addr': '127.0.0.1:0' }), { RIDGE_DB: db }, dir);
  try {
    const probe = deployment.spec.template.spec.containers[0].readinessProbe.httpGet.path;
    assert.equal((await fetch(`${url}${probe}`)).status, 200);
    const container = job.spec.template.spec.containers[0];
    const results = join(dir, 'results');
    mkdirSync(results);
    // The Job's command as written, with the quick suite (the standard one takes minutes on a CPU)
    // and the Service's address replaced by this server's.
    const args = withValues(container.args, { '--suite': 'quick', '--upload': url, '--out': results, '--spool-dir': join(results, 'spool') });
    const env = Object.fromEntries(container.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    const run = spawnSync(BIN, args, { env: { ...process.env, ...GPU_ENV, ...env, RIDGE_TOKEN: token }, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const stored = await runsOn(url);
    assert.equal(stored.length, readdirSync(results).filter((f) => f.endsWith('.json')).length);
    assert.ok(stored.length >= 1);
  } finally {
    child.kill();
  }
});

test('the Slurm script runs ridge run and uploads; without a token it stops before measuring', async () => {
  const script = readFileSync(SLURM, 'utf8').split('\n');
  // sbatch reads #SBATCH lines only before the first command.
  const firstCommand = script.findIndex((l) => l.trim() && !l.startsWith('#'));
  const directives = script.map((l, i) => [l, i]).filter(([l]) => l.startsWith('#SBATCH'));
  assert.ok(directives.length > 0);
  for (const [l, i] of directives) assert.ok(i < firstCommand, `${l} comes after the first command, where sbatch ignores it`);

  const tokens = join(dir, 'slurm-tokens');
  execFileSync('sh', ['-c', `printf 'rdg_slurm_test\\n' > ${tokens}`]);
  const [child, url] = await serve(['serve', '--addr', '127.0.0.1:0', '--db', join(dir, 'slurm.db'), '--token-file', tokens], {}, dir);
  try {
    const env = { ...process.env, ...GPU_ENV, RIDGE: BIN, RIDGE_SERVER: url, RIDGE_SUITE: 'quick', RIDGE_RESULTS: join(dir, 'slurm'), SLURM_ARRAY_JOB_ID: '41', SLURM_ARRAY_TASK_ID: '3' };
    delete env.RIDGE_TOKEN;
    const refused = spawnSync('bash', [SLURM], { env, encoding: 'utf8' });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /RIDGE_TOKEN/);
    assert.equal((await runsOn(url)).length, 0);

    const ran = spawnSync('bash', [SLURM], { env: { ...env, RIDGE_TOKEN: 'rdg_slurm_test' }, encoding: 'utf8' });
    assert.equal(ran.status, 0, ran.stderr);
    const [task] = readdirSync(join(dir, 'slurm'));
    assert.match(task, /^41_3_/);
    assert.equal((await runsOn(url)).length, 1);
  } finally {
    child.kill();
  }
});
