/**
 * Kubernetes objects for cluster-mode tests: pull Secrets with real
 * .dockerconfigjson data, namespaces with labels, ServiceAccounts.
 */
export const FAKE_PASSWORD = 'hunter2-DO-NOT-LEAK'

function dockerConfigJson (registries: string[]): string {
  const auths: Record<string, unknown> = {}
  for (const r of registries) {
    auths[r] = { username: 'robot', password: FAKE_PASSWORD, auth: Buffer.from(`robot:${FAKE_PASSWORD}`).toString('base64') }
  }
  return Buffer.from(JSON.stringify({ auths })).toString('base64')
}

export function pullSecret (namespace: string, name: string, registries: string[], type = 'kubernetes.io/dockerconfigjson'): any {
  const data = type === 'kubernetes.io/dockercfg'
    ? { '.dockercfg': Buffer.from(JSON.stringify(Object.fromEntries(registries.map((r) => [r, { auth: Buffer.from(`robot:${FAKE_PASSWORD}`).toString('base64') }])))).toString('base64') }
    : { '.dockerconfigjson': dockerConfigJson(registries) }
  return { apiVersion: 'v1', kind: 'Secret', metadata: { namespace, name }, type, data }
}

export function namespaceObject (name: string, labels: Record<string, string> = {}): any {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } }
}

export function serviceAccount (namespace: string, name: string, pullSecrets: string[] = [], enforce = false): any {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { namespace, name, ...(enforce ? { annotations: { 'kubernetes.io/enforce-mountable-secrets': 'true' } } : {}) },
    imagePullSecrets: pullSecrets.map((n) => ({ name: n })),
  }
}

/**
 * A pull Secret as `kubectl apply` leaves it, as the API server returns it:
 * the last-applied-configuration annotation repeats the whole manifest,
 * credentials included, and managedFields records both managers. `secret`
 * is the credential (the password; `auth` is derived from it), so a test can
 * use a fresh random one and search memory for it.
 */
export function appliedPullSecret (namespace: string, name: string, registries: string[], secret: string, annotations: Record<string, string> = {}): any {
  const auths: Record<string, unknown> = {}
  for (const r of registries) auths[r] = { username: 'robot', password: secret, auth: Buffer.from(`robot:${secret}`).toString('base64') }
  const data = { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') }
  const manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, annotations }, type: 'kubernetes.io/dockerconfigjson', data }
  const fieldsV1 = {
    'f:data': { '.': {}, 'f:.dockerconfigjson': {} },
    'f:metadata': { 'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {}, ...Object.fromEntries(Object.keys(annotations).map((k) => [`f:${k}`, {}])) } },
    'f:type': {},
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      namespace,
      name,
      annotations: { ...annotations, 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(manifest) + '\n' },
      managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'v1', time: '2025-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1 }],
    },
    type: 'kubernetes.io/dockerconfigjson',
    data,
  }
}
