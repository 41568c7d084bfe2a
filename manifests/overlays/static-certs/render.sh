#!/bin/sh
# Renders the static-certs overlay to stdout: checks that the certificates
# exist, runs `kubectl kustomize` (which copies the CA from the Secret into
# every webhook's caBundle; see kustomization.yaml, `replacements`), puts each
# caBundle on one line and checks that it is exactly base64 of certs/ca.crt.
#
#   npm run certs -- --service pullguard --namespace pullguard --out manifests/overlays/static-certs/certs
#   manifests/overlays/static-certs/render.sh | kubectl apply -f -
#
# Environment: KUBECTL (default: kubectl), for `kubectl kustomize`.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
kubectl=${KUBECTL:-kubectl}

for file in ca.crt tls.crt tls.key; do
  if [ ! -s "$here/certs/$file" ]; then
    echo "render.sh: $here/certs/$file is missing. Generate the certificates first:" >&2
    echo "  npm run certs -- --service pullguard --namespace pullguard --out manifests/overlays/static-certs/certs" >&2
    exit 1
  fi
done
if ! command -v "$kubectl" >/dev/null 2>&1; then
  echo "render.sh: $kubectl not found (set KUBECTL to a kubectl with built-in kustomize)" >&2
  exit 1
fi

rendered=$("$kubectl" kustomize "$here")
expected=$(base64 < "$here/certs/ca.crt" | tr -d '\n')

# kustomize copies the Secret's data["ca.crt"], which it writes as a wrapped
# block scalar. The API server would accept that (Go's base64 decoder skips
# newlines), but one line is easier to read and to diff: join each caBundle
# onto one line, and check that there is at least one and that every one is
# exactly base64 of certs/ca.crt. Exit 2: none found; 3: one differs.
status=0
output=$(printf '%s\n' "$rendered" | awk -v expected="$expected" '
  function flush() {
    if (inblock) {
      print prefix joined
      if (joined != expected) bad = 1
      found++
      inblock = 0
    }
  }
  {
    if (inblock) {
      match($0, /^ */)
      if (RLENGTH > keyindent && $0 !~ /^[[:space:]]*$/) {
        line = $0
        gsub(/[[:space:]]/, "", line)
        joined = joined line
        next
      }
      flush()
    }
    if ($0 ~ /^[[:space:]]*caBundle:[[:space:]]*[|>][-+]?[[:space:]]*$/) {
      match($0, /^ */)
      keyindent = RLENGTH
      prefix = substr($0, 1, keyindent) "caBundle: "
      joined = ""
      inblock = 1
      next
    }
    if ($0 ~ /^[[:space:]]*caBundle:[[:space:]]*[^[:space:]]/) {
      value = $0
      sub(/^[[:space:]]*caBundle:[[:space:]]*/, "", value)
      if (value != expected) bad = 1
      found++
    }
    print
  }
  END {
    flush()
    if (found == 0) exit 2
    if (bad) exit 3
  }') || status=$?

case $status in
  0) ;;
  2) echo "render.sh: no caBundle in the rendered webhook configurations" >&2; exit 1 ;;
  3) echo "render.sh: a caBundle differs from base64 of certs/ca.crt" >&2; exit 1 ;;
  *) echo "render.sh: post-processing failed (awk exit $status)" >&2; exit 1 ;;
esac

printf '%s\n' "$output"
