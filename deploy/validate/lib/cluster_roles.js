// What the cluster roles (issue 6) bring, and the one switch for when they are in the binary.

// Set to true once `kura store`, `kura receive` and `kura query` take their contracted flags.
// Then the rendered command lines are started for real (test/command-lines.test.js), and every
// contracted metric below must be registered in the code (test/dashboard.test.js), so a name
// that drifted from the contract fails instead of leaving an empty panel.
// KURA_DEPLOY_CLUSTER_ROLES=1 turns it on for one run.
export const CLUSTER_ROLES_IMPLEMENTED = false;

export const CLUSTER_ROLES = ['store', 'receive', 'query'];

export function clusterRolesEnabled() {
  return CLUSTER_ROLES_IMPLEMENTED || process.env.KURA_DEPLOY_CLUSTER_ROLES === '1';
}

// The metrics the cluster roles register on /metrics, as contracted for issue 6: the dashboard
// may use them before the code has them.
export const CONTRACTED_CLUSTER_METRICS = [
  'kura_router_node_write_duration_seconds',  // histogram, label node
  'kura_router_node_write_errors_total',  // label node
  'kura_router_node_ejections_total',  // label node
  'kura_router_in_flight_bytes',  // label node
  'kura_fanout_duration_seconds',  // histogram
  'kura_fanout_partial_responses_total',
];
