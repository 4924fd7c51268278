// The Grafana provisioning: the dashboard parses, every panel has a data source and targets,
// and every metric it queries is registered somewhere in Kura's code.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse } from 'yaml';
import { dashboardProblems, metricNames, registeredMetrics, SCRAPE_METRICS } from '../lib/dashboard.js';

const here = dirname(fileURLToPath(import.meta.url));
const sourceDir = process.env.KURA_SOURCE_DIR || join(here, '..', '..', '..');
const grafanaDir = join(sourceDir, 'deploy', 'grafana');
const dashboards = readdirSync(join(grafanaDir, 'dashboards')).filter((f) => f.endsWith('.json'));
const registered = registeredMetrics(sourceDir);

test('metric names are read from PromQL', () => {
  assert.deepEqual([...metricNames(
    'histogram_quantile(0.99, sum by (le, node) (rate(a_bucket{handler=~"x|y", i=~"$i"}[$__rate_interval]))) / on(x) b_total offset 5m',
  )], ['a_bucket', 'b_total']);
  assert.ok(registered.has('kura_remote_write_samples_received_total'), 'the source scan finds registered metrics');
});

test('there is a dashboard', () => {
  assert.ok(dashboards.length > 0);
});

for (const file of dashboards) {
  test(`dashboards/${file}`, () => {
    const dashboard = JSON.parse(readFileSync(join(grafanaDir, 'dashboards', file), 'utf8'));
    const known = new Set([...registered, ...SCRAPE_METRICS]);
    const problems = dashboardProblems(dashboard, known);
    assert.deepEqual(problems, []);
  });
}

test('a dashboard with an unknown metric or a panel without targets fails', () => {
  const bad = {
    uid: 'x',
    title: 'x',
    panels: [
      { id: 1, type: 'timeseries', title: 'typo', datasource: { type: 'prometheus', uid: 'kura' }, gridPos: {},
        targets: [{ refId: 'A', expr: 'rate(kura_remote_write_samples_recieved_total[5m])' }] },
      { id: 2, type: 'timeseries', title: 'empty', datasource: { type: 'prometheus', uid: 'kura' }, targets: [] },
      { id: 3, type: 'stat', title: 'no source', gridPos: {}, targets: [{ refId: 'A', expr: 'up' }] },
    ],
  };
  const problems = dashboardProblems(bad, new Set([...registered, ...SCRAPE_METRICS]));
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems[0], /kura_remote_write_samples_recieved_total/);
  assert.match(problems[1], /no targets/);
  assert.match(problems[2], /no datasource/);
});

test('provisioning files', () => {
  const datasources = parse(readFileSync(join(grafanaDir, 'datasource.yaml'), 'utf8'));
  assert.equal(datasources.apiVersion, 1);
  const kura = datasources.datasources.find((d) => d.name === 'Kura');
  assert.equal(kura.type, 'prometheus');
  assert.equal(kura.access, 'proxy');
  assert.equal(kura.jsonData.httpMethod, 'POST');
  assert.match(kura.url, /^https?:\/\/[^/]+(:\d+)?$/);
  const providers = parse(readFileSync(join(grafanaDir, 'dashboards.yaml'), 'utf8'));
  assert.equal(providers.apiVersion, 1);
  assert.equal(providers.providers[0].type, 'file');
  assert.ok(providers.providers[0].options.path);
  // Every dashboard's datasource variable defaults to the provisioned data source's uid.
  for (const file of dashboards) {
    const dashboard = JSON.parse(readFileSync(join(grafanaDir, 'dashboards', file), 'utf8'));
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    assert.equal(variable.current.value, kura.uid, file);
  }
});
