/**
 * SIGTERM of a real pullguard process under load, on both ports: no request
 * fails, every response during the drain says Connection: close, and a
 * connection that never sends a request does not hold the exit.
 *
 * The clients behave like the API server behind a Service: a kept-alive
 * connection is reused for as long as the server keeps it open (kube-proxy
 * pins it to this pod, kubernetes/kubernetes#127335); a new connection lands
 * on this pod until the endpoints controller has removed it (here: 1 s into
 * the 3 s drain), after which a client that would have to dial has moved to
 * another replica and stops.
 */
import t from 'tap'
import http from 'node:http'
import https from 'node:https'
import tls from 'node:tls'
import { readFileSync } from 'node:fs'
import { fixture } from './helpers/fixtures.js'
import { serving, startPullguard, type Running } from './helpers/process.js'
import { waitFor } from './helpers/wait.js'

const DRAIN_SECONDS = 3
/** When the endpoints controller has removed the pod: 2 s before the drain ends, so a client that dialled just before has long sent its request. */
const ENDPOINTS_GONE_MS = 1000
const WEBHOOK_CLIENTS = 6
const HEALTH_CLIENTS = 2
const IDLE_CLIENTS = 3
/** Far above drain + 2 s; the process used to wait for the spare connection forever. */
const EXIT_GUARD_MS = 30_000

interface Answer { sentAt: number, status: number, connection: string | undefined }

function once (agent: http.Agent, port: number, secure: boolean, path: string, body: string | undefined, errors: string[]): Promise<Answer | undefined> {
  const sentAt = Date.now()
  return new Promise((resolve) => {
    const options = { host: '127.0.0.1', port, path, agent, servername: 'localhost', method: body === undefined ? 'GET' : 'POST', headers: body === undefined ? {} : { 'content-type': 'application/json' } }
    const done = (res: http.IncomingMessage): void => {
      res.resume()
      res.on('end', () => resolve({ sentAt, status: res.statusCode ?? 0, connection: res.headers.connection }))
      res.on('error', (err) => { errors.push(`${path}: response ${err.message}`); resolve(undefined) })
    }
    const req = secure ? https.request(options, done) : http.request(options, done)
    req.on('error', (err: NodeJS.ErrnoException) => { errors.push(`${path}: ${err.code ?? err.message}`); resolve(undefined) })
    req.end(body)
  })
}

function hasReusableConnection (agent: http.Agent): boolean {
  return Object.values(agent.freeSockets).some((list) => (list?.length ?? 0) > 0)
}

/** Exit code, or 'guard' if the process was still running after EXIT_GUARD_MS (then it is killed). */
async function exitWithin (run: Running): Promise<number | null | 'guard'> {
  let guard: NodeJS.Timeout | undefined
  const outcome = await Promise.race([
    run.exited,
    new Promise<'guard'>((resolve) => { guard = setTimeout(() => resolve('guard'), EXIT_GUARD_MS) }),
  ])
  clearTimeout(guard)
  if (outcome === 'guard') run.child.kill('SIGKILL')
  return outcome
}

t.test('SIGTERM under load: zero failed requests on both ports, Connection: close on every response while draining', async (t) => {
  const dir = t.testdir()
  const run = startPullguard({ DEV_CERT_DIR: dir, DRAIN_SECONDS: String(DRAIN_SECONDS) })
  t.teardown(() => { run.child.kill('SIGKILL') })
  const { port, healthPort } = await serving(run)
  const ca = readFileSync(`${dir}/ca.crt`, 'utf8')
  const body = JSON.stringify(fixture('review-create.json'))
  const errors: string[] = []
  const answers: Answer[] = []
  let drainSeenAt = Infinity
  let endpointsGone = false
  let exited = false

  const loop = async (agent: http.Agent, secure: boolean, path: string, payload: string | undefined): Promise<void> => {
    for (;;) {
      if (exited) return
      // Dialling now would reach another replica: this client is done here.
      if (endpointsGone && !hasReusableConnection(agent)) return
      const answer = await once(agent, secure ? port : healthPort, secure, path, payload, errors)
      if (answer !== undefined) answers.push(answer)
    }
  }
  const agents: http.Agent[] = []
  const agent = (secure: boolean): http.Agent => {
    const made = secure ? new https.Agent({ keepAlive: true, maxSockets: 1, ca }) : new http.Agent({ keepAlive: true, maxSockets: 1 })
    agents.push(made)
    return made
  }
  t.teardown(() => { for (const a of agents) a.destroy() })

  // Idle pooled connections: one request each before SIGTERM, then never used again.
  const idleErrors: string[] = []
  for (let i = 0; i < IDLE_CLIENTS; i++) {
    const idle = agent(true)
    t.equal((await once(idle, port, true, '/mutate', body, errors))?.status, 200)
    for (const list of Object.values(idle.freeSockets)) for (const s of list ?? []) s.on('error', (err: Error) => idleErrors.push(err.message))
  }

  const loops = [
    ...Array.from({ length: WEBHOOK_CLIENTS }, async () => { await loop(agent(true), true, '/mutate', body) }),
    ...Array.from({ length: HEALTH_CLIENTS }, async () => { await loop(agent(false), false, '/readyz', undefined) }),
  ]
  await waitFor(() => answers.length >= 100, 20_000, 'load before SIGTERM')
  const beforeSignal = answers.length

  run.child.kill('SIGTERM')
  await waitFor(() => run.lines.some((l) => l.includes('shutting down')), 10_000, 'the drain to start')
  drainSeenAt = Date.now()
  setTimeout(() => { endpointsGone = true }, ENDPOINTS_GONE_MS)
  const code = await exitWithin(run)
  exited = true
  await Promise.all(loops)

  t.equal(code, 0, 'exit code 0')
  const draining = answers.filter((a) => a.sentAt >= drainSeenAt)
  t.same(errors, [], `no failed request (${answers.length} answered, ${beforeSignal} before SIGTERM)`)
  t.same(idleErrors, [], 'no error on the idle pooled connections either')
  t.ok(draining.length >= WEBHOOK_CLIENTS + HEALTH_CLIENTS, `requests answered during the drain (${draining.length})`)
  t.same(draining.filter((a) => a.connection !== 'close'), [], 'every response during the drain says Connection: close')
  t.ok(draining.some((a) => a.status === 200) && draining.some((a) => a.status === 503), 'reviews answered and /readyz 503 while draining')
  t.ok(run.lines.some((l) => l.includes('"msg":"stopped"')))
})

t.test('a connection that completes its TLS handshake and sends nothing does not hold the exit', async (t) => {
  const dir = t.testdir()
  const run = startPullguard({ DEV_CERT_DIR: dir, DRAIN_SECONDS: '0.5' })
  t.teardown(() => { run.child.kill('SIGKILL') })
  const { port } = await serving(run)
  const silent = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(`${dir}/ca.crt`, 'utf8'), servername: 'localhost' })
  t.teardown(() => silent.destroy())
  silent.on('error', () => {})
  const closedByServer = new Promise<void>((resolve) => silent.once('close', () => resolve()))
  await new Promise<void>((resolve) => silent.once('secureConnect', () => resolve()))

  const signalledAt = Date.now()
  run.child.kill('SIGTERM')
  const code = await exitWithin(run)
  t.not(code, 'guard', `exited before the ${EXIT_GUARD_MS / 1000} s guard (the spare used to hold it until the client gave up)`)
  t.equal(code, 0, 'exit code 0')
  await closedByServer
  t.comment(`exited ${Date.now() - signalledAt} ms after SIGTERM with a 500 ms drain`)
})
