/**
 * listen() failures at start-up as one line naming the setting to change,
 * like every other start-up error (main.ts prints `pullguard: ...` and exits
 * 1), instead of Node's `listen EADDRINUSE: address already in use`.
 */
import { PullguardError } from '../errors.js'

export function listenFailure (err: unknown, setting: 'PORT' | 'HEALTH_PORT', port: number, host: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'EADDRINUSE':
      return new PullguardError('PG_LISTEN_FAILED',
        `${setting}=${port}: port ${port} on ${host} is already in use (another pullguard or another server); stop it or set ${setting} to a free port`)
    case 'EACCES':
      return new PullguardError('PG_LISTEN_FAILED',
        `${setting}=${port}: not allowed to listen on port ${port} on ${host} (ports below 1024 need privileges); use a port above 1023`)
    case 'EADDRNOTAVAIL':
      return new PullguardError('PG_LISTEN_FAILED', `HOST=${host}: not an address of this machine; use 0.0.0.0, :: or one of its addresses`)
    default:
      return err
  }
}
