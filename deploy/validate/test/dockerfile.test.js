// The Dockerfile agrees with the chart and with CI: Debian 12 stages, the build stage runs the
// scripts CI runs, the image's user is the chart's runAsUser, its entrypoint is the chart's
// command, and its runtime packages can be derived from the binary CI built. (No container
// runtime is needed; the image itself is built where Docker is.)

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse } from 'yaml';
import { CHART_DIR, render } from '../lib/chart.js';

const here = dirname(fileURLToPath(import.meta.url));
const sourceDir = process.env.KURA_SOURCE_DIR || join(here, '..', '..', '..');
const binary = process.env.KURA_BINARY || join(sourceDir, 'build', 'cmd', 'kura', 'kura');

// [{from, name, instructions: [{op, args}]}], line continuations joined, comments dropped.
function stages(text) {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const result = [];
  for (const line of lines) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line);
    if (op.toUpperCase() === 'FROM') {
      const [from, , name] = args.split(/\s+/);
      result.push({ from, name, instructions: [] });
    } else {
      result.at(-1).instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return result;
}

const dockerfile = stages(readFileSync(join(sourceDir, 'Dockerfile'), 'utf8'));
const final = dockerfile.at(-1);
const last = (op) => final.instructions.filter((i) => i.op === op).at(-1)?.args;

test('multi-stage, every stage on Debian 12', () => {
  assert.ok(dockerfile.length >= 2, 'a build stage and a runtime stage');
  for (const s of dockerfile) assert.match(s.from, /^debian:12(-slim)?$/, s.from);
});

test('the build stage runs the scripts CI runs', () => {
  const runs = dockerfile[0].instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
  assert.match(runs, /scripts\/install-deps\.sh/);
  assert.match(runs, /scripts\/build\.sh/);
  for (const i of dockerfile[0].instructions.filter((x) => x.op === 'COPY')) {
    const [src] = i.args.split(/\s+/);
    assert.ok(src === '.' || existsSync(join(sourceDir, src)), `COPY ${src} exists`);
  }
});

test('the image runs as the chart\'s non-root user, with the chart\'s command and ports', () => {
  const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8'));
  const [uid, gid] = last('USER').split(':').map(Number);
  assert.ok(uid > 0, 'non-root');
  assert.equal(uid, values.podSecurityContext.runAsUser);
  assert.equal(gid, values.podSecurityContext.runAsGroup);
  const entrypoint = JSON.parse(last('ENTRYPOINT'));
  const exposed = last('EXPOSE').split(/\s+/).map(Number);
  for (const w of render(join(CHART_DIR, 'ci', 'values-small.yaml'))
    .filter((o) => o.kind === 'StatefulSet' || o.kind === 'Deployment')) {
    for (const c of w.spec.template.spec.containers) {
      assert.deepEqual(c.command, entrypoint, `${w.metadata.name}: command is the image's entrypoint`);
      for (const p of c.ports) assert.ok(exposed.includes(p.containerPort), `port ${p.containerPort} exposed`);
    }
  }
});

test('.dockerignore keeps build output and dependencies out of the context', () => {
  const ignored = readFileSync(join(sourceDir, '.dockerignore'), 'utf8').split('\n');
  for (const entry of ['.git', 'build/', '**/node_modules/']) assert.ok(ignored.includes(entry), entry);
});

test('the runtime packages are derived from the built binary',
  { skip: existsSync(binary) ? false : `no kura binary at ${binary}` }, () => {
    const result = spawnSync('bash', [join(sourceDir, 'scripts', 'runtime-packages.sh'), binary], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const packages = result.stdout.trim().split('\n');
    assert.ok(packages.includes('libc6'), packages.join(' '));
    for (const p of packages) assert.match(p, /^[a-z0-9][a-z0-9.+-]+$/);
  });
