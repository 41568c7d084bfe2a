/**
 * Throwaway development certificates for `npm start` (see certs/README.md),
 * and the one routine that writes certificate files to disk, shared with
 * certs-cli.ts.
 */
import { randomBytes } from 'node:crypto'
import { constants as fsConstants } from 'node:fs'
import { access, chmod, mkdir, open, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { generateCertificates } from './certs.js'
import type { CertificateBundle } from './certs.js'

const CA_CERT_FILE = 'ca.crt'
const CA_KEY_FILE = 'ca.key'
const CERT_FILE = 'tls.crt'
const KEY_FILE = 'tls.key'

/** Service and namespace the development certificate is issued for. */
const DEV_SERVICE = 'pullguard'
const DEV_NAMESPACE = 'default'

const KEY_MODE = 0o600
const CERT_MODE = 0o644

export interface DevCertificates {
  certFile: string
  keyFile: string
  /** `dir/ca.crt`, or undefined when the directory held a serving
   * certificate and key but no CA certificate. */
  caFile: string | undefined
  /** true when this call created the files. */
  generated: boolean
}

/**
 * Uses `dir/tls.crt` and `dir/tls.key` when both exist; otherwise generates
 * a CA and a serving certificate for pullguard.default.svc plus localhost,
 * 127.0.0.1 and ::1, and writes all four files (keys mode 0600).
 *
 * Two processes racing through the generate branch could each write a
 * complete set and leave a mixed pair behind; `npm start` runs one process,
 * so this is not guarded against.
 */
export async function ensureDevCertificates (dir: string): Promise<DevCertificates> {
  const certFile = join(dir, CERT_FILE)
  const keyFile = join(dir, KEY_FILE)
  const caPath = join(dir, CA_CERT_FILE)
  if (await exists(certFile) && await exists(keyFile)) {
    return { certFile, keyFile, caFile: await exists(caPath) ? caPath : undefined, generated: false }
  }
  const bundle = generateCertificates({ service: DEV_SERVICE, namespace: DEV_NAMESPACE, dev: true })
  const files = await writeCertificateFiles(dir, bundle)
  return { certFile: files.certFile, keyFile: files.keyFile, caFile: files.caCertFile, generated: true }
}

export interface CertificateFiles {
  caCertFile: string
  caKeyFile: string
  certFile: string
  keyFile: string
}

/**
 * Writes the bundle as ca.crt, ca.key, tls.key, tls.crt into `dir` (created
 * if missing), keys with mode 0600, certificates 0644. Each file is written
 * to a temporary name in the same directory, fsynced, then renamed over the
 * target, so a crash never leaves a truncated key or certificate under the
 * real name. tls.crt is written last: a crash part-way leaves tls.crt
 * missing, and ensureDevCertificates then regenerates the whole set.
 */
export async function writeCertificateFiles (dir: string, bundle: CertificateBundle): Promise<CertificateFiles> {
  await mkdir(dir, { recursive: true })
  const files: CertificateFiles = {
    caCertFile: join(dir, CA_CERT_FILE),
    caKeyFile: join(dir, CA_KEY_FILE),
    certFile: join(dir, CERT_FILE),
    keyFile: join(dir, KEY_FILE)
  }
  await writeFileAtomic(files.caCertFile, bundle.caCert, CERT_MODE)
  await writeFileAtomic(files.caKeyFile, bundle.caKey, KEY_MODE)
  await writeFileAtomic(files.keyFile, bundle.key, KEY_MODE)
  await writeFileAtomic(files.certFile, bundle.cert, CERT_MODE)
  return files
}

async function writeFileAtomic (file: string, contents: string, mode: number): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  try {
    // 'wx': fail rather than follow a symlink or reuse a file someone planted
    // at the temporary name. The mode applies from creation, so the key is
    // never readable by others, not even briefly.
    const handle = await open(tmp, 'wx', mode)
    try {
      await handle.writeFile(contents, 'utf8')
      await handle.sync()
    } finally {
      await handle.close()
    }
    // The umask may have narrowed the mode at creation; state it exactly.
    await chmod(tmp, mode)
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

async function exists (file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.F_OK)
    return true
  } catch {
    return false
  }
}
