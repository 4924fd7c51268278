// Checks of a Grafana dashboard JSON: every panel has a data source and targets, and every
// metric a query uses is one Kura registers (found in the source) or one contracted for the
// cluster roles.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

// Series Prometheus itself adds to every scrape.
export const SCRAPE_METRICS = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'];

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset',
  'bool', 'and', 'or', 'unless', 'inf', 'nan']);
const SOURCE_DIRS = ['base', 'model', 'storage', 'shard', 'ingest', 'query', 'cmd'];

// Metric names registered in Kura's C++ source: every "kura_..." string literal outside tests.
export function registeredMetrics(sourceDir) {
  const names = new Set();
  const walk = (dir) => {
    let entries;
    try { entries = readdirSync(dir); } catch { return; }
    for (const entry of entries) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) {
        walk(path);
      } else if (/\.(cc|h)$/.test(entry) && !entry.endsWith('_test.cc')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/"(kura_[a-z0-9_]+)"/g)) names.add(m[1]);
      }
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(sourceDir, dir));
  return names;
}

// The metric names a PromQL expression selects. Strings, label matchers, grouping clauses
// and ranges are removed first; what remains that is not a function call, keyword or number
// is a metric name.
export function metricNames(expr) {
  let e = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  e = e.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set();
  for (const m of e.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1].toLowerCase()) || m[1].startsWith('$')) continue;
    names.add(m[1]);
  }
  return names;
}

function baseName(name) {
  return name.replace(/_(bucket|sum|count)$/, '');
}

function panelsOf(dashboard) {
  const panels = [];
  for (const p of dashboard.panels ?? []) {
    panels.push(p);
    for (const inner of p.panels ?? []) panels.push(inner);
  }
  return panels;
}

// Returns a list of problems (strings); `known` is the set of allowed metric names.
export function dashboardProblems(dashboard, known) {
  const problems = [];
  if (!dashboard.uid || !dashboard.title) problems.push('dashboard needs a uid and a title');
  const ids = new Set();
  for (const panel of panelsOf(dashboard)) {
    const where = `panel ${panel.id} "${panel.title}"`;
    if (ids.has(panel.id)) problems.push(`${where}: duplicate id`);
    ids.add(panel.id);
    if (panel.type === 'row') continue;
    if (!panel.datasource?.type || !panel.datasource?.uid) problems.push(`${where}: no datasource`);
    if (!Array.isArray(panel.targets) || panel.targets.length === 0) {
      problems.push(`${where}: no targets`);
      continue;
    }
    if (!panel.gridPos) problems.push(`${where}: no gridPos`);
    for (const target of panel.targets) {
      if (!target.expr) {
        problems.push(`${where} target ${target.refId}: no expr`);
        continue;
      }
      for (const name of metricNames(target.expr)) {
        if (!known.has(name) && !known.has(baseName(name))) {
          problems.push(`${where} target ${target.refId}: metric ${name} is neither registered in the code nor contracted`);
        }
      }
    }
  }
  return problems;
}
