// The rendered command lines, started locally with the real `kura` binary: every storage node
// of the StatefulSet and one pod of each Deployment (ci/values-small.yaml), hostnames mapped to
// 127.0.0.1 and ports to free ones. Each must become ready on /-/ready, and exit 0 on SIGTERM
// within its grace period: the flags in the chart are flags the binary accepts.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { CHART_DIR, render } from '../lib/chart.js';
import { flagValue } from '../lib/rules.js';
import { LocalPod, localCommandLines, roleImplemented, runDir } from '../lib/local_run.js';

const READY_TIMEOUT_MS = 30_000;

const here = dirname(fileURLToPath(import.meta.url));
const binary = process.env.KURA_BINARY
  || join(process.env.KURA_SOURCE_DIR || join(here, '..', '..', '..'), 'build', 'cmd', 'kura', 'kura');
const haveBinary = existsSync(binary);
const noBinary = haveBinary ? false : `no kura binary at ${binary} (build it, or set KURA_BINARY)`;
const CLUSTER_ROLES = ['store', 'receive', 'query'];

const smallValues = join(CHART_DIR, 'ci', 'values-small.yaml');

async function startAll(specs, dir) {
  const pods = [];
  // Storage nodes first: receivers and queriers are told their addresses.
  for (const wave of [specs.filter((s) => s.role === 'store'), specs.filter((s) => s.role !== 'store')]) {
    const started = wave.map((s) => new LocalPod(s, join(dir, `${s.pod}.log`)));
    pods.push(...started);
    await Promise.all(started.map((p) => p.waitReady(READY_TIMEOUT_MS)));
  }
  return pods;
}

async function terminateAll(pods) {
  return Promise.all(pods.map(async (p) => {
    const spec = p.spec.workload.spec.template.spec;
    const graceMs = (spec.terminationGracePeriodSeconds ?? 30) * 1000;
    return { pod: p.spec.pod, ...(await p.terminate(graceMs)) };
  }));
}

describe('rendered command lines, mapped to 127.0.0.1', () => {
  test('every cluster address maps to a local one', async () => {
    let next = 20000;
    const specs = await localCommandLines(render(smallValues), {
      binary: '/bin/kura', nextPort: async () => next++, dataDir: (pod) => `/tmp/${pod}`,
    });
    assert.deepEqual(specs.map((s) => s.role).sort(), ['query', 'receive', 'store', 'store', 'store']);
    const storePorts = specs.filter((s) => s.role === 'store')
      .map((s) => `127.0.0.1:${flagValue(s.argv, '--grpc.listen-address').split(':')[1]}`);
    for (const s of specs) {
      const line = s.argv.join(' ');
      assert.doesNotMatch(line, /\.svc|:9201\b|:9301\b/, `${s.pod}: ${line}`);
      const nodes = flagValue(s.argv, '--store.nodes');
      if (nodes !== undefined) assert.deepEqual(nodes.split(','), storePorts, s.pod);
    }
  });

  // Proves the harness itself on the binary as it is today: a pod running `kura standalone`,
  // shaped as the chart renders its pods, starts, becomes ready and drains on SIGTERM.
  test('the harness starts and drains a pod', { skip: noBinary },
    async () => {
      const run = runDir();
      after(() => run.cleanup());
      const [sts] = render(smallValues).filter((o) => o.kind === 'StatefulSet');
      const pod = structuredClone(sts);
      pod.spec.replicas = 1;
      pod.spec.template.spec.containers[0].args = ['standalone', '--http.listen-address=:9201',
        '--storage.path=/data', '--log.level=info'];
      const specs = await localCommandLines([pod], {
        binary, dataDir: (name) => { const d = join(run.dir, name); mkdirSync(d); return d; },
      });
      const pods = await startAll(specs, run.dir);
      try {
        for (const r of await terminateAll(pods)) {
          assert.equal(r.code, 0, `${r.pod} exit ${r.code} signal ${r.signal} after ${r.ms} ms`);
        }
      } finally {
        pods.forEach((p) => p.kill());
      }
    });

  test('storage nodes, a receiver and a querier start from the chart\'s flags', { skip: noBinary },
    async () => {
      for (const role of CLUSTER_ROLES) {
        assert.ok(roleImplemented(binary, role), `kura ${role} --help lists no --http.listen-address`);
      }
      const run = runDir();
      after(() => run.cleanup());
      const specs = await localCommandLines(render(smallValues), {
        binary, dataDir: (name) => { const d = join(run.dir, name); mkdirSync(d); return d; },
      });
      let pods = [];
      try {
        pods = await startAll(specs, run.dir);
        for (const r of await terminateAll(pods)) {
          assert.ok(!r.timedOut, `${r.pod} still running after its grace period`);
          assert.equal(r.code, 0, `${r.pod} exit ${r.code} signal ${r.signal} after ${r.ms} ms`);
        }
      } finally {
        pods.forEach((p) => p.kill());
      }
    });
});
