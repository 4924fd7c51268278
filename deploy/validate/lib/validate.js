// The validator: YAML documents in, named problems out.
//   node lib/validate.js FILE.yaml...   prints every problem, exits 1 if there is one.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { crossObjectProblems } from './rules.js';
import { schemaProblems } from './schema.js';

// Parses a multi-document YAML stream into objects; empty documents are skipped.
export function parseManifests(text, source = '<input>') {
  const objects = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0].message}`);
    const object = doc.toJS();
    if (object !== null && object !== undefined) objects.push(object);
  }
  return objects;
}

function objectId(object) {
  const ns = object.metadata?.namespace ? `${object.metadata.namespace}/` : '';
  return `${object.kind}/${ns}${object.metadata?.name}`;
}

// Returns [{rule, object, message}]: schema problems of each object, then the cross-object
// rules over all of them.
export async function validateObjects(objects) {
  const problems = [];
  for (const object of objects) {
    for (const p of await schemaProblems(object)) problems.push({ ...p, object: objectId(object) });
  }
  problems.push(...crossObjectProblems(objects));
  return problems;
}

export function formatProblems(problems) {
  return problems.map((p) => `${p.rule}: ${p.object}: ${p.message}`).join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let failed = false;
  for (const file of process.argv.slice(2)) {
    const problems = await validateObjects(parseManifests(readFileSync(file, 'utf8'), file));
    if (problems.length > 0) {
      failed = true;
      console.log(`${file}:\n${formatProblems(problems)}`);
    } else {
      console.log(`${file}: ok`);
    }
  }
  process.exit(failed ? 1 : 0);
}
