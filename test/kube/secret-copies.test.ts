/**
 * How a failed write is classified: RBAC refuses every write alike (the
 * round stops, one message), anything else refuses one object (it backs
 * off alone); 409 is someone writing first.
 */
import t from 'tap'
import { CopyApiError } from '../../src/kube/secret-copies.js'

const error = (code: number, message: string, reason = 'Forbidden'): CopyApiError => new CopyApiError('create', { code, reason, message }, 'Secret team-a/x')

t.test('RBAC, and the 403s that are not', async (t) => {
  t.equal(error(403, 'secrets is forbidden: User "system:serviceaccount:pullguard:pullguard" cannot create resource "secrets" in API group "" in the namespace "team-a"').forbidden, true, 'RBAC')
  t.equal(error(403, 'secrets "x" is forbidden: exceeded quota: secrets, requested: secrets=1, used: secrets=10, limited: secrets=10').forbidden, false, 'a ResourceQuota: this namespace only')
  t.equal(error(403, 'admission webhook "validate.kyverno.svc" denied the request: no copies here').forbidden, false, 'an admission webhook: this object only')
  t.equal(error(403, 'secrets "x" is forbidden: unable to create new content in namespace team-a because it is being terminated').forbidden, false, 'a namespace being deleted')
  t.equal(error(409, 'Operation cannot be fulfilled on secrets "x": the object has been modified', 'Conflict').conflict, true)
  t.equal(error(409, 'secrets "x" already exists', 'AlreadyExists').conflict, true)
  t.equal(error(500, 'etcd timeout', 'InternalError').conflict, false)
  t.equal(error(403, 'm').message, 'cannot create Secret team-a/x: 403 m', 'the message names the operation and the Secret')
  t.equal(new CopyApiError('get-source', { code: undefined, reason: undefined, message: 'ECONNREFUSED' }, 'Secret pullguard/s').message, 'cannot get source Secret pullguard/s: ECONNREFUSED')
})
