/**
 * Makes every webhook of pullguard's MutatingWebhookConfiguration and
 * ValidatingWebhookConfiguration trust exactly the bootstrap bundle
 * (`clientConfig.caBundle`: base64 of the PEM, as the API server reads it).
 *
 * A JSON patch (RFC 6902) rather than a PUT of the object as read: a PUT
 * through client-node's typed models would drop any field those models do
 * not know yet. The patch begins with a `test` of metadata.resourceVersion,
 * so it only applies to the version it was computed from; otherwise the API
 * server answers 422 (a failed test, apiserver's applyJSPatch) and we re-read.
 * Nothing is written when every webhook already holds the bundle.
 *
 * The ValidatingWebhookConfiguration is optional (the base manifests only
 * install the mutating one): 404 is fine. 403 is a missing RBAC rule: it is
 * reported, and the caller keeps serving.
 */
import type { AdmissionregistrationV1Api, V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node'
import type { Logger } from 'pino'
import { apiErrorOf } from '../kube/api-error.js'
import { caBundle } from '../tls/certs.js'

export type CaBundleOutcome =
  | { readonly ok: true, readonly wrote: boolean }
  | { readonly ok: false, readonly error: string }

type Configuration = V1MutatingWebhookConfiguration | V1ValidatingWebhookConfiguration
interface Kind {
  readonly resource: 'mutatingwebhookconfigurations' | 'validatingwebhookconfigurations'
  readonly read: (name: string) => Promise<Configuration>
  readonly patch: (name: string, body: object[]) => Promise<Configuration>
}

const MAX_ATTEMPTS = 5

export async function ensureCaBundle (api: AdmissionregistrationV1Api, name: string, bundle: string, log: Logger): Promise<CaBundleOutcome> {
  const kinds: Kind[] = [
    {
      resource: 'mutatingwebhookconfigurations',
      read: async (n) => await api.readMutatingWebhookConfiguration({ name: n }),
      // client-node sends application/json-patch+json by default for patches.
      patch: async (n, body) => await api.patchMutatingWebhookConfiguration({ name: n, body }),
    },
    {
      resource: 'validatingwebhookconfigurations',
      read: async (n) => await api.readValidatingWebhookConfiguration({ name: n }),
      patch: async (n, body) => await api.patchValidatingWebhookConfiguration({ name: n, body }),
    },
  ]
  const want = caBundle(bundle)
  let wrote = false
  const errors: string[] = []
  for (const kind of kinds) {
    const outcome = await ensureOne(kind, name, want, log)
    if (outcome.ok) wrote ||= outcome.wrote
    else errors.push(outcome.error)
  }
  return errors.length === 0 ? { ok: true, wrote } : { ok: false, error: errors.join('; ') }
}

async function ensureOne (kind: Kind, name: string, want: string, log: Logger): Promise<CaBundleOutcome> {
  const what = `${kind.resource}/${name}`
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let current: Configuration
    try {
      current = await kind.read(name)
    } catch (err) {
      const info = apiErrorOf(err)
      if (info.code === 404) {
        log.debug({ configuration: what }, 'webhook configuration not found; nothing to patch')
        return { ok: true, wrote: false }
      }
      return { ok: false, error: failure('read', what, info) }
    }
    const ops: object[] = []
    ;(current.webhooks ?? []).forEach((hook, i) => {
      const held = hook.clientConfig?.caBundle
      if (hook.clientConfig === undefined || held === want) return
      ops.push({ op: held === undefined ? 'add' : 'replace', path: `/webhooks/${i}/clientConfig/caBundle`, value: want })
    })
    if (ops.length === 0) return { ok: true, wrote: false }
    const body = [{ op: 'test', path: '/metadata/resourceVersion', value: current.metadata?.resourceVersion ?? '' }, ...ops]
    try {
      await kind.patch(name, body)
      log.info({ configuration: what, webhooks: ops.length }, 'caBundle updated')
      return { ok: true, wrote: true }
    } catch (err) {
      const info = apiErrorOf(err)
      // 422: our `test` failed (someone wrote since we read); 409: the same race inside the API server.
      if (info.code === 409 || info.code === 422) {
        log.debug({ configuration: what, attempt }, 'webhook configuration changed while patching; re-reading')
        continue
      }
      return { ok: false, error: failure('patch', what, info) }
    }
  }
  return { ok: false, error: `cannot patch caBundle of ${what}: it kept changing (${MAX_ATTEMPTS} attempts)` }
}

function failure (verb: 'read' | 'patch', what: string, info: ReturnType<typeof apiErrorOf>): string {
  if (info.code === 403) {
    return `forbidden to ${verb === 'read' ? 'get' : 'patch'} ${what}: give pullguard's ServiceAccount get and patch on it (RBAC; manifests/base/rbac.yaml): ${info.message}`
  }
  return `cannot ${verb} ${what}: ${info.code === undefined ? '' : `${info.code} `}${info.message}`
}
