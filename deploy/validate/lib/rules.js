// Kura's own rules across the rendered objects: what a schema cannot see, and what the
// operators learned the hard way (requests to starting or terminating pods, a ClusterIP hiding
// dead pods, HPA flapping, OOM kills). Each problem names its rule; RULES lists them all.

export const RULES = {
  'recommended-labels': 'every object and pod template carries the app.kubernetes.io/* labels',
  'selector-matches-pod-labels': "a workload's selector matches its own pod template's labels",
  'service-selects-pods': "a Service's selector matches the pods of a workload",
  'service-name-headless': "a StatefulSet's serviceName names a headless Service selecting its pods",
  'headless-publishes-not-ready': 'the headless Service publishes not-ready pods (their names resolve while they start)',
  'container-readiness': 'every container has a readiness probe',
  'container-prestop': 'every container has a preStop hook',
  'container-requests': 'every container requests CPU and memory',
  'container-memory-limit': 'every container has a memory limit equal to its memory request',
  'grace-period-covers-drain': 'terminationGracePeriodSeconds covers preStop + --drain.delay + --drain.timeout',
  'liveness-not-aggressive': 'a liveness probe allows a minute of silence and never probes /-/ready',
  'startup-probe-covers-recovery': 'a StatefulSet container has a startup probe of at least 5 minutes',
  'deployment-max-unavailable-zero': 'a Deployment rolls with maxUnavailable 0',
  'workload-has-pdb': 'every workload is selected by exactly one PodDisruptionBudget',
  'pdb-selects-pods': 'every PodDisruptionBudget selects the pods of a workload',
  'hpa-target-exists': "an HPA's scaleTargetRef names a workload that exists",
  'hpa-target-sets-replicas': 'a workload scaled by an HPA does not set spec.replicas (each upgrade would reset it)',
  'hpa-scale-down-stabilization': 'an HPA scales on CPU and waits at least 60 s before scaling down',
  'store-nodes-match-replicas': '--store.nodes lists exactly the storage StatefulSet\'s per-pod DNS names, or dns+ its headless Service',
  'security-context': 'non-root, read-only root filesystem, no privilege escalation, ALL capabilities dropped, seccomp RuntimeDefault',
  'servicemonitor-port': "a ServiceMonitor's endpoints name a port of a Service it selects",
};

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

function id(object) {
  const ns = object.metadata?.namespace ? `${object.metadata.namespace}/` : '';
  return `${object.kind}/${ns}${object.metadata?.name}`;
}

function matches(selector, labels) {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

// "5s", "1m30s", "2m", "500ms" -> seconds.
export function durationSeconds(text) {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  const scale = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  let consumed = 0;
  for (const m of String(text).matchAll(re)) {
    total += Number(m[1]) * scale[m[2]];
    consumed += m[0].length;
  }
  if (consumed !== String(text).length || consumed === 0) return NaN;
  return total;
}

// --name=value or --name value from a container's args; undefined when absent.
export function flagValue(args, name) {
  for (let i = 0; i < (args ?? []).length; i++) {
    const a = String(args[i]);
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
    if (a === name && i + 1 < args.length) return String(args[i + 1]);
  }
  return undefined;
}

function podSpec(workload) {
  return workload.spec?.template?.spec ?? {};
}

function podLabels(workload) {
  return workload.spec?.template?.metadata?.labels ?? {};
}

function sameNamespace(a, b) {
  return (a.metadata?.namespace ?? '') === (b.metadata?.namespace ?? '');
}

function probeBudgetSeconds(probe) {
  return (probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3);
}

function preStopSeconds(container) {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return Number(preStop.sleep.seconds ?? 0);
  const command = preStop?.exec?.command ?? [];
  const sleep = command.findIndex((c) => /(^|\/)sleep$/.test(c));
  return sleep >= 0 ? Number(command[sleep + 1] ?? 0) : 0;
}

// Quantities compared as Kubernetes would: "2Gi" === "2048Mi".
export function quantity(text) {
  const m = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(String(text));
  if (!m) return NaN;
  const units = {
    '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
  };
  return m[2] in units ? Number(m[1]) * units[m[2]] : NaN;
}

function containerProblems(workload, container, problem) {
  const where = `container ${container.name}`;
  if (!container.readinessProbe) problem('container-readiness', `${where} has no readinessProbe`);
  if (!container.lifecycle?.preStop) problem('container-prestop', `${where} has no lifecycle.preStop`);
  const requests = container.resources?.requests ?? {};
  const limits = container.resources?.limits ?? {};
  if (!requests.cpu || !requests.memory) {
    problem('container-requests', `${where} requests ${JSON.stringify(requests)}: cpu and memory are required`);
  }
  if (!limits.memory) {
    problem('container-memory-limit', `${where} has no memory limit`);
  } else if (requests.memory && quantity(limits.memory) !== quantity(requests.memory)) {
    problem('container-memory-limit',
      `${where}: memory limit ${limits.memory} differs from request ${requests.memory}`);
  }
  const live = container.livenessProbe;
  if (live) {
    if (probeBudgetSeconds(live) < 60) {
      problem('liveness-not-aggressive',
        `${where}: liveness gives up after ${probeBudgetSeconds(live)} s (periodSeconds x failureThreshold < 60)`);
    }
    if (live.httpGet?.path === '/-/ready') {
      problem('liveness-not-aggressive', `${where}: liveness probes /-/ready, which is false while draining or replaying`);
    }
  }
  if (workload.kind === 'StatefulSet') {
    const startup = container.startupProbe;
    if (!startup || probeBudgetSeconds(startup) < 300) {
      problem('startup-probe-covers-recovery',
        `${where}: startup probe budget ${startup ? probeBudgetSeconds(startup) : 0} s < 300 s`);
    }
  }
  const args = [...(container.command ?? []), ...(container.args ?? [])];
  const drain = durationSeconds(flagValue(args, '--drain.delay') ?? '5s')
    + durationSeconds(flagValue(args, '--drain.timeout') ?? '25s');
  const needed = preStopSeconds(container) + drain;
  const grace = podSpec(workload).terminationGracePeriodSeconds ?? 30;
  if (!(grace >= needed)) {
    problem('grace-period-covers-drain',
      `${where}: terminationGracePeriodSeconds ${grace} < preStop ${preStopSeconds(container)} s + drain ${drain} s`);
  }
  const pod = podSpec(workload).securityContext ?? {};
  const sc = container.securityContext ?? {};
  const missing = [];
  if (!(sc.runAsNonRoot ?? pod.runAsNonRoot)) missing.push('runAsNonRoot');
  if (sc.readOnlyRootFilesystem !== true) missing.push('readOnlyRootFilesystem');
  if (sc.allowPrivilegeEscalation !== false) missing.push('allowPrivilegeEscalation: false');
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) missing.push('capabilities.drop: [ALL]');
  if ((sc.seccompProfile ?? pod.seccompProfile)?.type !== 'RuntimeDefault') missing.push('seccompProfile RuntimeDefault');
  if (missing.length > 0) problem('security-context', `${where} lacks ${missing.join(', ')}`);
}

// The storage StatefulSet: the one whose container runs `kura store`.
function storeStatefulSets(objects) {
  return objects.filter((o) => o.kind === 'StatefulSet'
    && podSpec(o).containers?.some((c) => (c.args ?? [])[0] === 'store'));
}

function storeNodesProblems(objects, workload, container, problem) {
  const value = flagValue(container.args, '--store.nodes');
  if (value === undefined) return;
  const stores = storeStatefulSets(objects).filter((s) => sameNamespace(s, workload));
  if (stores.length !== 1) {
    problem('store-nodes-match-replicas', `--store.nodes is set but ${stores.length} storage StatefulSets exist`);
    return;
  }
  const sts = stores[0];
  const ns = sts.metadata.namespace ?? 'default';
  const svc = sts.spec.serviceName;
  const storeContainer = podSpec(sts).containers.find((c) => (c.args ?? [])[0] === 'store');
  const grpc = flagValue(storeContainer.args, '--grpc.listen-address') ?? ':9301';
  const port = grpc.slice(grpc.lastIndexOf(':') + 1);
  const host = `(${svc}\\.${ns}\\.svc(\\.[a-z0-9.-]+)?)`;
  if (value.startsWith('dns+')) {
    const re = new RegExp(`^dns\\+${host}:${port}$`);
    if (!re.test(value)) {
      problem('store-nodes-match-replicas', `--store.nodes=${value}: expected dns+${svc}.${ns}.svc:${port}`);
    }
    return;
  }
  const nodes = value.split(',');
  const replicas = sts.spec.replicas ?? 1;
  const expected = Array.from({ length: replicas }, (_, i) => `${sts.metadata.name}-${i}`);
  const names = [];
  for (const node of nodes) {
    const m = new RegExp(`^([a-z0-9-]+)\\.${host}:(\\d+)$`).exec(node);
    if (!m || m[4] !== port) {
      problem('store-nodes-match-replicas',
        `--store.nodes entry ${node} is not <pod>.${svc}.${ns}.svc:${port} (a per-pod name on the headless Service)`);
      return;
    }
    names.push(m[1]);
  }
  if (names.join(',') !== expected.join(',')) {
    problem('store-nodes-match-replicas',
      `--store.nodes names pods [${names.join(', ')}], the StatefulSet has [${expected.join(', ')}]`);
  }
}

function workloadProblems(objects, workload, problem) {
  const labels = podLabels(workload);
  const selector = workload.spec?.selector?.matchLabels;
  if (!matches(selector, labels)) {
    problem('selector-matches-pod-labels',
      `selector ${JSON.stringify(selector ?? {})} does not match pod labels ${JSON.stringify(labels)}`);
  }
  for (const key of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component']) {
    if (!labels[key]) problem('recommended-labels', `pod template has no ${key} label`);
  }
  const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget' && sameNamespace(o, workload)
    && matches(o.spec?.selector?.matchLabels, labels));
  if (pdbs.length !== 1) {
    problem('workload-has-pdb', `selected by ${pdbs.length} PodDisruptionBudgets, not 1`);
  }
  if (workload.kind === 'StatefulSet') {
    const svc = objects.find((o) => o.kind === 'Service' && sameNamespace(o, workload)
      && o.metadata?.name === workload.spec?.serviceName);
    if (!svc || svc.spec?.clusterIP !== 'None' || !matches(svc.spec?.selector, labels)) {
      problem('service-name-headless',
        `serviceName ${workload.spec?.serviceName} is ${svc ? 'not a headless Service selecting these pods' : 'no Service'}`);
    } else if (svc.spec.publishNotReadyAddresses !== true) {
      problem('headless-publishes-not-ready', `Service ${svc.metadata.name} does not publish not-ready addresses`);
    }
  }
  if (workload.kind === 'Deployment') {
    const strategy = workload.spec?.strategy;
    const unavailable = strategy?.rollingUpdate?.maxUnavailable;
    if (strategy?.type === 'Recreate' || !(unavailable === 0 || unavailable === '0%')) {
      problem('deployment-max-unavailable-zero',
        `strategy ${JSON.stringify(strategy ?? {})}: rollingUpdate.maxUnavailable must be 0`);
    }
  }
  for (const container of podSpec(workload).containers ?? []) {
    const containerProblem = (rule, message) => problem(rule, message);
    containerProblems(workload, container, containerProblem);
    storeNodesProblems(objects, workload, container, containerProblem);
  }
}

function hpaProblems(objects, hpa, problem) {
  const ref = hpa.spec?.scaleTargetRef ?? {};
  const target = objects.find((o) => o.kind === ref.kind && o.apiVersion === ref.apiVersion
    && o.metadata?.name === ref.name && sameNamespace(o, hpa));
  if (!target) {
    problem('hpa-target-exists', `scaleTargetRef ${ref.apiVersion} ${ref.kind}/${ref.name} does not exist`);
  } else if (target.spec?.replicas !== undefined) {
    problem('hpa-target-sets-replicas', `${id(target)} sets spec.replicas=${target.spec.replicas}`);
  }
  const cpu = (hpa.spec?.metrics ?? []).some((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const window = hpa.spec?.behavior?.scaleDown?.stabilizationWindowSeconds;
  if (!cpu || !(window >= 60)) {
    problem('hpa-scale-down-stabilization',
      `${cpu ? '' : 'no CPU metric; '}scaleDown.stabilizationWindowSeconds ${window ?? 'unset'} (needs >= 60)`);
  }
}

function serviceMonitorProblems(objects, monitor, problem) {
  const services = objects.filter((o) => o.kind === 'Service' && sameNamespace(o, monitor)
    && matches(monitor.spec?.selector?.matchLabels, o.metadata?.labels));
  const endpoints = monitor.spec?.endpoints ?? [];
  if (services.length === 0 || endpoints.length === 0) {
    problem('servicemonitor-port', `selects ${services.length} Services with ${endpoints.length} endpoints`);
    return;
  }
  for (const e of endpoints) {
    if (!services.some((s) => (s.spec?.ports ?? []).some((p) => p.name === e.port))) {
      problem('servicemonitor-port', `endpoint port ${e.port} is no port of the selected Services`);
    }
  }
}

// Returns [{rule, object, message}] for a set of rendered objects.
export function crossObjectProblems(objects) {
  const problems = [];
  for (const object of objects) {
    const problem = (rule, message) => {
      if (!(rule in RULES)) throw new Error(`unknown rule ${rule}`);
      problems.push({ rule, object: id(object), message });
    };
    const labels = object.metadata?.labels ?? {};
    for (const key of ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/managed-by']) {
      if (!labels[key]) problem('recommended-labels', `no ${key} label`);
    }
    if (WORKLOAD_KINDS.has(object.kind)) workloadProblems(objects, object, problem);
    if (object.kind === 'Service' && object.spec?.selector) {
      const selected = objects.some((w) => WORKLOAD_KINDS.has(w.kind) && sameNamespace(w, object)
        && matches(object.spec.selector, podLabels(w)));
      if (!selected) problem('service-selects-pods', `selector ${JSON.stringify(object.spec.selector)} selects no pods`);
    }
    if (object.kind === 'PodDisruptionBudget') {
      const selected = objects.some((w) => WORKLOAD_KINDS.has(w.kind) && sameNamespace(w, object)
        && matches(object.spec?.selector?.matchLabels, podLabels(w)));
      if (!selected) problem('pdb-selects-pods', 'selects no pods');
    }
    if (object.kind === 'HorizontalPodAutoscaler') hpaProblems(objects, object, problem);
    if (object.kind === 'ServiceMonitor') serviceMonitorProblems(objects, object, problem);
  }
  return problems;
}
