// Runs a rendered chart's containers as local processes: the container command and args from
// the StatefulSet and Deployments, with every cluster hostname mapped to 127.0.0.1, every port
// to a free one and the data volume to a temp dir. Proves that the flags the chart writes are
// flags the binary accepts, and that each role becomes ready and drains on SIGTERM.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flagValue } from './rules.js';

// A port that was free a moment ago (bind port 0, read it, close).
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function containerOf(workload) {
  return workload.spec.template.spec.containers[0];
}

// The pods to start: every replica of the storage StatefulSet (receivers and queriers must
// reach each of them), one pod of each Deployment. Returns [{pod, workload, container, role}].
export function podsToStart(objects) {
  const pods = [];
  for (const sts of objects.filter((o) => o.kind === 'StatefulSet')) {
    for (let i = 0; i < (sts.spec.replicas ?? 1); i++) {
      pods.push({ pod: `${sts.metadata.name}-${i}`, workload: sts, container: containerOf(sts) });
    }
  }
  for (const d of objects.filter((o) => o.kind === 'Deployment')) {
    pods.push({ pod: `${d.metadata.name}-0`, workload: d, container: containerOf(d) });
  }
  for (const p of pods) p.role = (p.container.args ?? [])[0];
  return pods;
}

function listenPort(address) {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

// Assigns local ports and rewrites each pod's command line. `ports` yields free ports;
// `dataDir(pod)` gives a storage path. Returns pods with {argv, httpPort, env}.
export async function localCommandLines(objects, { binary, nextPort = freePort, dataDir }) {
  const pods = podsToStart(objects);
  // Cluster port -> local port, per pod: the StatefulSet's pods each get their own.
  for (const p of pods) {
    p.ports = new Map();
    for (const flag of ['--http.listen-address', '--grpc.listen-address']) {
      const value = flagValue(p.container.args, flag);
      if (value !== undefined) p.ports.set(flag, { cluster: listenPort(value), local: await nextPort() });
    }
  }
  const byPod = new Map(pods.map((p) => [p.pod, p]));
  const storePods = pods.filter((p) => p.role === 'store');
  const grpcOf = (p) => p.ports.get('--grpc.listen-address')?.local;

  // "<pod>.<svc>.<ns>.svc[.<domain>]:<port>" -> 127.0.0.1:<that pod's local port>;
  // "dns+<svc>...:<port>" -> every storage pod's local address (one loopback address cannot
  // carry several ports, so the DNS form is checked by the validator, not run here).
  const mapNodes = (value) => {
    if (value.startsWith('dns+')) return storePods.map((p) => `127.0.0.1:${grpcOf(p)}`).join(',');
    return value.split(',').map((node) => {
      const pod = byPod.get(node.slice(0, node.indexOf('.')));
      if (!pod || grpcOf(pod) === undefined) throw new Error(`--store.nodes entry ${node} names no storage pod`);
      return `127.0.0.1:${grpcOf(pod)}`;
    }).join(',');
  };

  for (const p of pods) {
    const args = (p.container.args ?? []).map((arg) => {
      const eq = arg.indexOf('=');
      const flag = eq < 0 ? arg : arg.slice(0, eq);
      const value = eq < 0 ? undefined : arg.slice(eq + 1);
      if (p.ports.has(flag)) return `${flag}=127.0.0.1:${p.ports.get(flag).local}`;
      if (flag === '--storage.path') return `${flag}=${dataDir(p.pod)}`;
      if (flag === '--store.nodes') return `${flag}=${mapNodes(value)}`;
      return arg;
    });
    const command = p.container.command ?? [];
    // The image's entrypoint is the kura binary; any further command words stay.
    p.argv = [binary, ...command.slice(1), ...args];
    p.httpPort = p.ports.get('--http.listen-address')?.local;
    p.env = Object.fromEntries((p.container.env ?? []).filter((e) => 'value' in e).map((e) => [e.name, e.value]));
  }
  return pods;
}

async function httpStatus(port, path) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

function sleep(ms) {
  return new Promise((resolve) => { setTimeout(resolve, ms); });
}

// A started pod: its process, its log, and how it ended.
export class LocalPod {
  constructor(spec, logPath) {
    this.spec = spec;
    this.logPath = logPath;
    const log = openSync(logPath, 'a');
    // Only the container's own variables: the host's KURA_* must not leak into the flags.
    const env = { PATH: process.env.PATH, ...spec.env };
    this.child = spawn(spec.argv[0], spec.argv.slice(1), { env, stdio: ['ignore', log, log] });
    closeSync(log);  // the child has its own copy
    this.exit = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
      this.child.on('error', (error) => resolve({ code: null, signal: null, error }));
    });
    this.exited = false;
    this.exit.then(() => { this.exited = true; });
  }

  logTail(lines = 20) {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-lines - 1).join('\n');
    } catch {
      return '(no log)';
    }
  }

  // Resolves once /-/ready answers 200; rejects if the process exits or time runs out.
  async waitReady(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let last = 0;
    while (Date.now() < deadline) {
      if (this.exited) {
        const { code, signal } = await this.exit;
        throw new Error(`${this.spec.pod} exited (code ${code}, signal ${signal}) before ready:\n`
          + `${this.spec.argv.join(' ')}\n${this.logTail()}`);
      }
      last = await httpStatus(this.spec.httpPort, '/-/ready');
      if (last === 200) return;
      await sleep(100);
    }
    throw new Error(`${this.spec.pod}: /-/ready not 200 after ${timeoutMs} ms (last ${last}):\n${this.logTail()}`);
  }

  // SIGTERM, as the kubelet sends after preStop; resolves with the exit and its duration.
  async terminate(timeoutMs) {
    const start = Date.now();
    if (!this.exited) this.child.kill('SIGTERM');
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
    const result = await Promise.race([this.exit, timeout]);
    clearTimeout(timer);
    if (result === null) {
      this.child.kill('SIGKILL');
      return { ...(await this.exit), timedOut: true, ms: Date.now() - start };
    }
    return { ...result, timedOut: false, ms: Date.now() - start };
  }

  kill() {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

// A temp dir for one run's data and logs, removed by cleanup() unless KURA_KEEP_TEST_DIRS=1.
export function runDir() {
  const base = process.env.TEST_TMPDIR || tmpdir();
  const dir = mkdtempSync(join(base, 'kura-deploy-'));
  return {
    dir,
    cleanup() {
      if (process.env.KURA_KEEP_TEST_DIRS !== '1') rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Whether `kura <role>` has the role's contracted flags: its --help lists --http.listen-address.
export function roleImplemented(binary, role) {
  const help = spawnSync(binary, [role, '--help'], { encoding: 'utf8' });
  return help.status === 0 && help.stdout.includes('--http.listen-address');
}
