/**
 * The in-memory ClusterView that informers write and admission reads.
 * Discovery keyrings are built per namespace on first use after a change,
 * so a burst of Secret events costs one rebuild, and admission never scans
 * every Secret.
 */
import type { CredentialKey } from '../registry/credential-key.js'
import { Keyring } from '../registry/keyring.js'
import type { ClusterView, NamespaceInfo, PullSecretInfo, ServiceAccountInfo } from './types.js'

export class ClusterStore implements ClusterView {
  private readonly namespaces = new Map<string, NamespaceInfo>()
  private readonly secrets = new Map<string, Map<string, PullSecretInfo>>()
  private readonly serviceAccounts = new Map<string, ServiceAccountInfo>()
  private readonly keyrings = new Map<string, Keyring<PullSecretInfo>>()
  /** Every usable pull Secret of every namespace, for coverage; rebuilt on first use after a change. */
  private everywhere: Keyring<PullSecretInfo> | undefined

  namespace (name: string): NamespaceInfo | undefined {
    return this.namespaces.get(name)
  }

  secret (namespace: string, name: string): PullSecretInfo | undefined {
    return this.secrets.get(namespace)?.get(name)
  }

  serviceAccount (namespace: string, name: string): ServiceAccountInfo | undefined {
    return this.serviceAccounts.get(`${namespace}/${name}`)
  }

  discover (namespace: string, imageName: string): readonly PullSecretInfo[] {
    let keyring = this.keyrings.get(namespace)
    if (keyring === undefined) {
      const entries = []
      for (const info of this.secrets.get(namespace)?.values() ?? []) {
        if (info.malformed !== undefined) continue
        for (const key of info.keys) entries.push({ key, value: info })
      }
      keyring = new Keyring(entries)
      this.keyrings.set(namespace, keyring)
    }
    return [...new Set(keyring.lookup(imageName))]
  }

  /**
   * Usable pull Secrets of ANY namespace whose keys match the image, kubelet
   * rules. Coverage (alwaysPull: private) asks this: an image someone holds a
   * credential for is private for everyone, whichever namespace the pod is in.
   */
  covering (imageName: string): readonly PullSecretInfo[] {
    this.everywhere ??= new Keyring(this.usableKeys())
    return this.everywhere.lookup(imageName)
  }

  /** The registry keys of every usable pull Secret, once each (by normalised key). */
  pullSecretKeys (): CredentialKey[] {
    const seen = new Map<string, CredentialKey>()
    for (const { key } of this.usableKeys()) if (!seen.has(key.key)) seen.set(key.key, key)
    return [...seen.values()]
  }

  private usableKeys (): Array<{ key: CredentialKey, value: PullSecretInfo }> {
    const entries = []
    for (const inNamespace of this.secrets.values()) {
      for (const info of inNamespace.values()) {
        if (info.malformed !== undefined) continue
        for (const key of info.keys) entries.push({ key, value: info })
      }
    }
    return entries
  }

  setNamespace (info: NamespaceInfo): void {
    this.namespaces.set(info.name, info)
  }

  deleteNamespace (name: string): void {
    this.namespaces.delete(name)
  }

  setSecret (info: PullSecretInfo): void {
    let inNamespace = this.secrets.get(info.namespace)
    if (inNamespace === undefined) {
      inNamespace = new Map()
      this.secrets.set(info.namespace, inNamespace)
    }
    inNamespace.set(info.name, info)
    this.keyrings.delete(info.namespace)
    this.everywhere = undefined
  }

  deleteSecret (namespace: string, name: string): void {
    const inNamespace = this.secrets.get(namespace)
    if (inNamespace?.delete(name) !== true) return
    if (inNamespace.size === 0) this.secrets.delete(namespace)
    this.keyrings.delete(namespace)
    this.everywhere = undefined
  }

  setServiceAccount (info: ServiceAccountInfo): void {
    this.serviceAccounts.set(`${info.namespace}/${info.name}`, info)
  }

  deleteServiceAccount (namespace: string, name: string): void {
    this.serviceAccounts.delete(`${namespace}/${name}`)
  }

  /** Everything held, for the informers' relists (which remove what is no longer listed). */
  namespaceInfos (): IterableIterator<NamespaceInfo> {
    return this.namespaces.values()
  }

  * secretInfos (): IterableIterator<PullSecretInfo> {
    for (const inNamespace of this.secrets.values()) yield * inNamespace.values()
  }

  serviceAccountInfos (): IterableIterator<ServiceAccountInfo> {
    return this.serviceAccounts.values()
  }

  counts (): { namespaces: number, secrets: number, serviceAccounts: number } {
    let secrets = 0
    for (const m of this.secrets.values()) secrets += m.size
    return { namespaces: this.namespaces.size, secrets, serviceAccounts: this.serviceAccounts.size }
  }
}
