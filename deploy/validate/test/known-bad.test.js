// A broken manifest fails the validator, naming the rule it breaks: one committed fixture per
// rule under fixtures/bad/, each the passing fixtures/good.yaml with one defect. A fixture's
// "# expect:" line names the rules it must break, and only those.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { RULES } from '../lib/rules.js';
import { formatProblems, parseManifests, validateObjects } from '../lib/validate.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const bad = readdirSync(join(fixtures, 'bad')).filter((f) => f.endsWith('.yaml')).sort();
const SCHEMA_RULES = ['schema', 'unknown-field', 'removed-api'];

async function problemsOf(path) {
  return validateObjects(parseManifests(readFileSync(path, 'utf8'), path));
}

test('the good fixture passes', async () => {
  const problems = await problemsOf(join(fixtures, 'good.yaml'));
  assert.equal(problems.length, 0, formatProblems(problems));
});

test('every rule has a known-bad fixture', () => {
  const covered = new Set(bad.map((f) => f.replace(/(--.*)?\.yaml$/, '')));
  for (const rule of [...SCHEMA_RULES, ...Object.keys(RULES)]) {
    assert.ok(covered.has(rule), `no fixtures/bad/${rule}.yaml`);
  }
});

for (const file of bad) {
  test(`fixtures/bad/${file} fails`, async () => {
    const path = join(fixtures, 'bad', file);
    const expectLine = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith('# expect:'));
    assert.ok(expectLine, 'has an "# expect:" line');
    const expected = expectLine.slice('# expect:'.length).split(',').map((s) => s.trim());
    const problems = await problemsOf(path);
    const rules = new Set(problems.map((p) => p.rule));
    for (const rule of expected) {
      assert.ok(rules.has(rule), `expected rule ${rule}, got:\n${formatProblems(problems) || '(no problems)'}`);
    }
    for (const rule of rules) {
      assert.ok(expected.includes(rule), `unexpected rule ${rule}:\n${formatProblems(problems)}`);
    }
  });
}
