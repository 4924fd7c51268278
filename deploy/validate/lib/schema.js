// Schema checks of one Kubernetes object, against two independent sources:
//   - kubernetes-models (JSON schemas from the Kubernetes OpenAPI spec): types, required
//     fields, enums, quantity formats;
//   - @kubernetes/client-node (models generated from the Kubernetes 1.34 OpenAPI spec): the
//     field names of every type, so a misspelt or misplaced field is an error, and the served
//     API versions, so one removed from Kubernetes (policy/v1beta1, autoscaling/v2beta2) is an
//     error.
// Custom resources Kura uses (the Prometheus Operator's ServiceMonitor) are checked by
// customResourceProblems() in rules.js instead.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const k8s = require('@kubernetes/client-node');

export const CUSTOM_RESOURCES = new Set(['monitoring.coreos.com/v1/ServiceMonitor']);

function splitApiVersion(apiVersion) {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

// client-node names a model V1StatefulSet, V2HorizontalPodAutoscaler, V1beta1Foo.
function clientModelName(version, kind) {
  return `${version[0].toUpperCase()}${version.slice(1)}${kind}`;
}

async function modelClass(apiVersion, kind) {
  const { group, version } = splitApiVersion(apiVersion);
  const path = group === '' ? `kubernetes-models/${version}/${kind}`
    : `kubernetes-models/${group}/${version}/${kind}`;
  try {
    const module = await import(path);
    return module[kind] ?? null;
  } catch {
    return null;
  }
}

// Walks `value` along client-node's attribute map of `type`, reporting every field the type
// does not have. Free-form maps (labels, resources) and `any` are not descended into.
function unknownFields(value, type, path, problems) {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1], `${path}[${i}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) unknownFields(v, map[1], `${path}.${k}`, problems);
    }
    return;
  }
  const model = k8s[type];
  if (!model || typeof model.getAttributeTypeMap !== 'function') return;
  if (typeof value !== 'object' || Array.isArray(value)) return;  // a type error: schema's job
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) {
      problems.push({ rule: 'unknown-field', message: `${path}.${k}: ${type} has no field "${k}"` });
    } else {
      unknownFields(v, fields.get(k), `${path}.${k}`, problems);
    }
  }
}

// Returns [{rule, message}] for one object.
export async function schemaProblems(object) {
  const problems = [];
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    return [{ rule: 'schema', message: 'apiVersion and kind are required' }];
  }
  if (CUSTOM_RESOURCES.has(`${apiVersion}/${kind}`)) return problems;
  const Model = await modelClass(apiVersion, kind);
  const { version } = splitApiVersion(apiVersion);
  const servedName = clientModelName(version, kind);
  const served = k8s[servedName];
  if (Model === null || served === undefined) {
    const why = Model === null ? 'no such kind in this API group and version'
      : 'removed from Kubernetes (not served by 1.34)';
    return [{ rule: 'removed-api', message: `${apiVersion} ${kind}: ${why}` }];
  }
  try {
    new Model(object).validate();
  } catch (e) {
    for (const err of e.errors ?? [{ instancePath: '', message: e.message }]) {
      const where = (err.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
      problems.push({ rule: 'schema', message: `${where || '(object)'}: ${err.message}` });
    }
  }
  unknownFields(object, servedName, kind, problems);
  return problems;
}
