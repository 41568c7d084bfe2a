/**
 * Kubernetes object-name rules, the one owner of them in pullguard: the
 * config respects them so that a typo is caught at start-up instead of
 * producing a pod the API server rejects, and the preview checks namespaces
 * with them. See k8s.io/apimachinery/pkg/util/validation/validation.go.
 */
import { compileGoGlob, hasGlobMeta, GlobSyntaxError } from '../registry/go-glob.js'

// IsDNS1123Subdomain: Secret names (and so imagePullSecrets[].name).
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const DNS1123_SUBDOMAIN_MAX = 253
// IsDNS1123Label: namespace names.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_LABEL_MAX = 63
// IsDNS1035Label: Service names (must start with a letter).
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
// Characters a namespace glob may use besides Go filepath.Match syntax. Not
// '!': Go negates a class with '^' only, and '[!a]' would silently mean "'!' or 'a'".
const NAMESPACE_GLOB_CHARS = /^[a-z0-9\-*?[\]^]+$/

/** IsDNS1123Label: 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit. */
export function isDns1123Label (value: string): boolean {
  return value.length <= DNS1123_LABEL_MAX && DNS1123_LABEL.test(value)
}

/** IsDNS1035Label: like a DNS-1123 label, but starting with a letter (Service names). */
export function isDns1035Label (value: string): boolean {
  return value.length <= DNS1123_LABEL_MAX && DNS1035_LABEL.test(value)
}

/** IsDNS1123Subdomain: dot-separated DNS-1123 labels, 1-253 characters in all (Secret and other object names). */
export function isDns1123Subdomain (value: string): boolean {
  return value.length <= DNS1123_SUBDOMAIN_MAX && DNS1123_SUBDOMAIN.test(value)
}

/** Namespace names are DNS-1123 labels (apimachinery ValidateNamespaceName). */
export function isNamespaceName (value: unknown): value is string {
  return typeof value === 'string' && isDns1123Label(value)
}

/** Returns why `name` is not a valid Secret name, or undefined when it is. */
export function secretNameProblem (name: string): string | undefined {
  if (name.length > DNS1123_SUBDOMAIN_MAX) return `is longer than ${DNS1123_SUBDOMAIN_MAX} characters`
  if (!isDns1123Subdomain(name)) {
    return 'is not a valid Secret name (RFC 1123 subdomain: lowercase letters, digits, \'-\' and \'.\')'
  }
  return undefined
}

export type NamespaceMatcher = (namespace: string) => boolean

/**
 * Compiles a namespace name or Go-style glob (`team-b*`, `dev-?`, `[ab]-ci`).
 * Returns a problem string for names no namespace could have.
 */
export function compileNamespacePattern (pattern: string): NamespaceMatcher | string {
  if (!hasGlobMeta(pattern)) {
    if (!isDns1123Label(pattern)) {
      return 'is not a valid namespace name (RFC 1123 label) nor a glob'
    }
    return (namespace) => namespace === pattern
  }
  if (!NAMESPACE_GLOB_CHARS.test(pattern)) {
    return 'is a glob with characters no namespace name can contain'
  }
  try {
    return compileGoGlob(pattern)
  } catch (err) {
    if (err instanceof GlobSyntaxError) return 'is a malformed glob'
    throw err
  }
}
