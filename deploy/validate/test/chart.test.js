// The chart renders for every ci/values-*.yaml, passes `helm lint --strict`, and every rendered
// object passes the schemas and Kura's rules.

import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { describe, test } from 'node:test';
import { CHART_DIR, ciValuesFiles, lint, NAMESPACE, RELEASE, render } from '../lib/chart.js';
import { helm } from '../lib/helm.js';
import { flagValue } from '../lib/rules.js';
import { formatProblems, validateObjects } from '../lib/validate.js';

const files = ciValuesFiles();

test('there are values files to render', () => {
  assert.ok(files.some((f) => basename(f) === 'values-small.yaml'), 'ci/values-small.yaml');
  assert.ok(files.some((f) => basename(f) === 'values-large.yaml'), 'ci/values-large.yaml');
});

for (const file of files) {
  describe(basename(file), () => {
    test('helm lint --strict', () => {
      assert.match(lint(file), /0 chart\(s\) failed/);
    });

    test('every rendered object passes the schemas and the rules', async () => {
      const objects = render(file);
      const kinds = new Set(objects.map((o) => o.kind));
      for (const kind of ['StatefulSet', 'Deployment', 'Service', 'PodDisruptionBudget']) {
        assert.ok(kinds.has(kind), `renders a ${kind}`);
      }
      const problems = await validateObjects(objects);
      assert.equal(problems.length, 0, formatProblems(problems));
    });

    test('--store.nodes follows the store replica count', () => {
      const objects = render(file);
      const sts = objects.find((o) => o.kind === 'StatefulSet');
      for (const d of objects.filter((o) => o.kind === 'Deployment')) {
        const nodes = flagValue(d.spec.template.spec.containers[0].args, '--store.nodes');
        if (nodes.startsWith('dns+')) continue;
        assert.equal(nodes.split(',').length, sts.spec.replicas, `${d.metadata.name}: ${nodes}`);
      }
    });
  });
}

// The chart itself refuses what the rules forbid, before anything reaches a cluster.
function renderFails(sets, pattern) {
  const args = ['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE];
  for (const s of sets) args.push('--set', s);
  assert.throws(() => helm(args), pattern);
}

test('a memory limit other than the request does not render', () => {
  renderFails(['store.resources.limits.memory=3Gi'], /limits.memory \(3Gi\) must equal requests.memory \(2Gi\)/);
});

test('an HPA that may scale to one pod does not render', () => {
  renderFails(['query.autoscaling.minReplicas=1'], /minReplicas must be at least 2/);
});

test('an unknown discovery mode does not render', () => {
  renderFails(['store.discovery=clusterip'], /store.discovery must be "pods" or "dns"/);
});

test('scaling the StatefulSet regenerates the node list', () => {
  const text = helm(['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--set', 'store.replicas=5',
    '--show-only', 'templates/stateless.yaml']);
  const line = text.split('\n').find((l) => l.includes('--store.nodes='));
  const nodes = line.trim().replace(/^- --store.nodes=/, '').split(',');
  assert.deepEqual(nodes, [0, 1, 2, 3, 4].map((i) => `kura-store-${i}.kura-store-headless.monitoring.svc:9301`));
});

test('the chart installs on the EKS versions it targets, not below 1.27', () => {
  for (const version of ['1.27.0', '1.33.0']) {
    helm(['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--kube-version', version]);
  }
  assert.throws(() => helm(['template', RELEASE, CHART_DIR, '--kube-version', '1.26.0']), /kubeVersion/);
});
