import tls from 'node:tls'
import type { X509Certificate } from 'node:crypto'

/**
 * A new TLS connection as the API server makes it: trusting `ca` (a PEM
 * bundle) and checking `servername`. Resolves with the certificate presented.
 */
export async function handshake (port: number, ca: string, servername: string): Promise<X509Certificate> {
  return await new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername, timeout: 5000 }, () => {
      const peer = socket.getPeerX509Certificate()
      socket.destroy()
      if (peer === undefined) reject(new Error('no peer certificate'))
      else resolve(peer)
    })
    socket.on('timeout', () => { socket.destroy(); reject(new Error('handshake timed out')) })
    socket.on('error', reject)
  })
}
