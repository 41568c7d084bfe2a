import t from 'tap'
import { listenFailure } from '../../src/http/listen-error.js'
import { PullguardError } from '../../src/errors.js'

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`listen ${code}: whatever 127.0.0.1:8443`), { code })

t.test('the usual listen() failures become one start-up line naming the setting', async (t) => {
  const cases: Array<[string, 'PORT' | 'HEALTH_PORT', number, string, string]> = [
    ['EADDRINUSE', 'PORT', 8443, '0.0.0.0', 'PORT=8443: port 8443 on 0.0.0.0 is already in use (another pullguard or another server); stop it or set PORT to a free port'],
    ['EADDRINUSE', 'HEALTH_PORT', 9090, '::', 'HEALTH_PORT=9090: port 9090 on :: is already in use (another pullguard or another server); stop it or set HEALTH_PORT to a free port'],
    ['EACCES', 'PORT', 443, '0.0.0.0', 'PORT=443: not allowed to listen on port 443 on 0.0.0.0 (ports below 1024 need privileges); use a port above 1023'],
    ['EADDRNOTAVAIL', 'PORT', 8443, '10.9.9.9', 'HOST=10.9.9.9: not an address of this machine; use 0.0.0.0, :: or one of its addresses'],
  ]
  for (const [code, setting, port, host, message] of cases) {
    const err = listenFailure(errno(code), setting, port, host)
    t.type(err, PullguardError, code)
    t.match(err, { code: 'PG_LISTEN_FAILED', message })
  }
  const other = errno('EMFILE')
  t.equal(listenFailure(other, 'PORT', 1, 'h'), other, 'anything else is left as it is')
})
