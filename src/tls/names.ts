/**
 * Kubernetes and DNS names as the certificates need them: which Service and
 * namespace names the API server accepts, which DNS names a dNSName SAN may
 * hold, and the names a client in the cluster uses for the Service. Pure:
 * each check returns why a name is refused (fixed text), or undefined.
 * The rules themselves are config/names.ts's (k8s.io/apimachinery
 * pkg/util/validation/validation.go): Service names are DNS-1035 labels,
 * namespaces DNS-1123 labels, Secrets and webhook configurations DNS-1123
 * subdomains; this file words them for certificate settings.
 */
import { isDns1035Label, isDns1123Label, isDns1123Subdomain } from '../config/names.js'

const DNS_LABEL_MAX = 63
const DNS_NAME_MAX = 253

/** Why `name` cannot be a Kubernetes Service name (IsDNS1035Label), or undefined. */
export function serviceNameProblem (name: string): string | undefined {
  if (isDns1035Label(name)) return undefined
  return `a Service name must be 1-${DNS_LABEL_MAX} lowercase ` +
    'letters, digits or \'-\', start with a letter and end with a letter or digit (RFC 1035 label)'
}

/** Why `name` cannot be a Kubernetes namespace name (IsDNS1123Label), or undefined. */
export function namespaceProblem (name: string): string | undefined {
  if (isDns1123Label(name)) return undefined
  return `a namespace must be 1-${DNS_LABEL_MAX} lowercase ` +
    'letters, digits or \'-\', starting and ending with a letter or digit (RFC 1123 label)'
}

/**
 * Why `name` cannot be the name of a Secret or a webhook configuration
 * (IsDNS1123Subdomain), or undefined.
 */
export function objectNameProblem (name: string): string | undefined {
  if (isDns1123Subdomain(name)) return undefined
  return `an object name must be 1-${DNS_NAME_MAX} lowercase letters, digits, '-' or '.', ` +
    'starting and ending with a letter or digit (RFC 1123 subdomain)'
}

/** Why `name` is not usable as a dNSName SAN, or undefined. */
export function dnsNameProblem (name: string): string | undefined {
  // RFC 5280 4.2.1.6 defers to RFC 6125 for wildcards: only as the whole
  // leftmost label. Lowercase only, as Kubernetes DNS names are.
  const bare = name.startsWith('*.') ? name.slice(2) : name
  const ok = name.length <= DNS_NAME_MAX && isDns1123Subdomain(bare) &&
    bare.split('.').every((label) => label.length <= DNS_LABEL_MAX)
  return ok ? undefined : 'must be a lowercase DNS name (RFC 1123), optionally starting with \'*.\''
}

/** The DNS names the serving certificate carries, in order, without duplicates. */
export function serviceDnsNames (service: string, namespace: string): string[] {
  // These are the names a client inside the cluster may use for the Service
  // (kubernetes.io/docs/concepts/services-networking/dns-pod-service/). The
  // API server itself uses NAME.NS.svc; the others cost nothing and let
  // curl from a pod, or a cluster with a different search path, work too.
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`
  ]
}
