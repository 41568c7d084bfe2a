/**
 * Kubernetes objects for cluster-mode tests: pull Secrets with real
 * .dockerconfigjson data, namespaces with labels, ServiceAccounts.
 */
export const FAKE_PASSWORD = 'hunter2-DO-NOT-LEAK'

export function dockerConfigJson (registries: string[]): string {
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
