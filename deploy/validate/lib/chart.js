// Renders Kura's chart with helm, for each values file under deploy/chart/ci/.

import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { helm } from './helm.js';
import { parseManifests } from './validate.js';

export const CHART_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'chart');
export const RELEASE = 'kura';
export const NAMESPACE = 'monitoring';

export function ciValuesFiles() {
  return readdirSync(join(CHART_DIR, 'ci')).filter((f) => /^values-.*\.yaml$/.test(f)).sort()
    .map((f) => join(CHART_DIR, 'ci', f));
}

export function lint(valuesFile) {
  return helm(['lint', '--strict', CHART_DIR, '-f', valuesFile]);
}

const rendered = new Map();

// Returns the rendered objects (a fresh copy: callers may change them).
export function render(valuesFile) {
  if (!rendered.has(valuesFile)) {
    const text = helm(['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '-f', valuesFile]);
    rendered.set(valuesFile, parseManifests(text, valuesFile));
  }
  return structuredClone(rendered.get(valuesFile));
}
