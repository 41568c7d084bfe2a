/**
 * Config files with credentials pasted where they do not belong, the way an
 * operator's first mistake looks: a GitHub token in `secrets:`, a
 * `robot:TOKEN@host` key with a query, a trailing space or an uppercase
 * scheme. Error messages must name the field and never carry the secret part.
 */

/** 36 characters after `ghp_`, as GitHub writes them. */
const GITHUB_TOKEN = 'ghp_Q7xR2mK9vL4pW8nT3sY6zB1cD5fG0hJ2kA9e'
const ROBOT_PASSWORD = 's3cretT0kenXq81'
/** A pre-2021 GitHub token: 40 lowercase hex characters. */
const HEX_TOKEN = '3f9a1c0b7e2d4f6a8b0c1d2e3f4a5b6c7d8e9f0a'

/** Any piece of a secret that a message must not contain. */
export const SECRET_PARTS = /Q7xR2mK9|kA9e|s3cretT0ken|Xq81|3f9a1c0b|7d8e9f0a/

export const CREDENTIAL_VALUES: readonly string[] = [
  GITHUB_TOKEN,
  `robot:${ROBOT_PASSWORD}@ghcr.io/acme?x=1`,
  `robot:${ROBOT_PASSWORD}@ghcr.io `,
  `HTTPS://robot:${ROBOT_PASSWORD}@ghcr.io`,
  `robot:${ROBOT_PASSWORD}`,
  HEX_TOKEN,
  `${GITHUB_TOKEN}\n`,
]

/**
 * One config with a credential-shaped value in every field, and the five
 * classic mistakes besides (unknown key, bad alwaysPull, non-array secrets,
 * invalid Secret name, wildcard port). JSON, so every value is written exactly.
 */
export function credentialLadenConfig (): string {
  const [query, space, upper, bare] = CREDENTIAL_VALUES.slice(1, 5) as [string, string, string, string]
  return JSON.stringify({
    registries: [
      { match: query, secrets: [GITHUB_TOKEN, 'Bad_Name'] },
      { match: space, secrets: GITHUB_TOKEN },
      { match: upper, secrets: ['ok'], namespaces: [GITHUB_TOKEN, HEX_TOKEN.toUpperCase()] },
      { match: bare, secrets: ['ok'] },
      { match: 'reg.example.com:*', secrets: ['ok'] },
      {
        match: 'ghcr.io',
        secrets: ['ok'],
        namespaceSelector: {
          matchLabels: { [GITHUB_TOKEN]: 5 },
          matchExpressions: [{ key: 'team', operator: GITHUB_TOKEN, values: ['a'] }],
        },
      },
    ],
    alwaysPull: GITHUB_TOKEN,
    missingSecrets: `robot:${ROBOT_PASSWORD}`,
    excludeNamespaces: [GITHUB_TOKEN],
    publicImages: [upper, HEX_TOKEN],
    discoverSecrets: GITHUB_TOKEN,
    [GITHUB_TOKEN]: 'pasted at the top level',
    alwaysPul: 'all',
  })
}

/** The fields credentialLadenConfig() must get a problem for, all in one report. */
export const EXPECTED_PROBLEMS: readonly RegExp[] = [
  /registries\[0\]\.match: credential key \(a value of \d+ characters, not shown: [^)]*\) has a URL query/,
  /registries\[0\]\.secrets\[0\]: \(a value of 40 characters, not shown: [^)]*\) is not a valid Secret name/,
  /registries\[0\]\.secrets\[1\]: \(a value of 8 characters, not shown: uppercase letters, '_'\) is not a valid Secret name/,
  /registries\[1\]\.match: credential key \(a value of \d+ characters, not shown: [^)]*\) contains whitespace/,
  /registries\[1\]\.secrets: must be array, got \(a value of 40 characters/,
  /registries\[2\]\.match: credential key \(a value of \d+ characters, not shown: [^)]*uppercase letters[^)]*\) has an unsupported scheme/,
  /registries\[2\]\.namespaces\[0\]: \(a value of 40 characters, not shown: [^)]*\) is not a valid namespace name/,
  /registries\[2\]\.namespaces\[1\]: \(a value of 40 characters, not shown: [^)]*\) is not a valid namespace name/,
  /registries\[3\]\.match: credential key \(a value of \d+ characters, not shown: [^)]*\) has a non-numeric port \(15 characters, not shown\)/,
  /registries\[4\]\.match: credential key "reg\.example\.com:\*" has a wildcard in the port "\*"/,
  /registries\[5\]\.namespaceSelector\.matchLabels\[\(a value of 40 characters, not shown: [^)]*\)\]: must be string, got 5/,
  /registries\[5\]\.namespaceSelector\.matchExpressions\[0\]\.operator: \(a value of 40 characters, not shown: [^)]*\) is not one of In, NotIn, Exists, DoesNotExist/,
  /alwaysPull: \(a value of 40 characters, not shown: [^)]*\) is not one of off, all, private/,
  /missingSecrets: \(a value of 21 characters, not shown: [^)]*\) is not one of inject, skip/,
  /excludeNamespaces\[0\]: \(a value of 40 characters, not shown: [^)]*\) is not a valid namespace name/,
  /publicImages\[0\]: \(a value of \d+ characters, not shown: [^)]*\) is not an image-name prefix/,
  /publicImages\[1\]: \(a value of 40 characters, not shown: [^)]*\) is not an image-name prefix/,
  /discoverSecrets: must be boolean, got \(a value of 40 characters/,
  /\[\(a value of 40 characters, not shown: [^)]*\)\]: unknown key/,
  /alwaysPul: unknown key/,
]
