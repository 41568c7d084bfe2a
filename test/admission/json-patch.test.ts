import t from 'tap'
import jsonpatch from 'fast-json-patch'
import { add, applyPatch, encodePatch, replace, setMember, type PatchOperation } from '../../src/admission/json-patch.js'

t.test('setMember uses replace for an existing member, add for a missing one', async (t) => {
  t.same(setMember({ imagePullPolicy: 'IfNotPresent' }, '/spec/containers/0', 'imagePullPolicy', 'Always'), replace('/spec/containers/0/imagePullPolicy', 'Always'))
  t.same(setMember({}, '/spec/containers/0', 'imagePullPolicy', 'Always'), add('/spec/containers/0/imagePullPolicy', 'Always'))
  t.same(setMember({ imagePullPolicy: null }, '/x', 'imagePullPolicy', 'Always').op, 'replace')
})

t.test('encodePatch is base64 of the JSON array', async (t) => {
  const ops = [add('/a', 1)]
  t.same(JSON.parse(Buffer.from(encodePatch(ops), 'base64').toString('utf8')), ops)
})

t.test('applyPatch agrees with fast-json-patch on the operations we emit', async (t) => {
  const doc = { spec: { containers: [{ name: 'a' }, { name: 'b', imagePullPolicy: 'Never' }], imagePullSecrets: [{ name: 'x' }] } }
  const ops: PatchOperation[] = [
    add('/spec/imagePullSecrets/-', { name: 'y' }),
    add('/spec/containers/0/imagePullPolicy', 'Always'),
    replace('/spec/containers/1/imagePullPolicy', 'Always'),
    add('/spec/imagePullSecrets', [{ name: 'z' }]),
    add('/spec/containers/1', { name: 'inserted' }),
  ]
  const ours = applyPatch(doc, ops)
  const theirs = jsonpatch.applyPatch(structuredClone(doc), structuredClone(ops) as jsonpatch.Operation[], true, false).newDocument
  t.same(ours, theirs)
  t.equal(doc.spec.containers[0]?.name, 'a', 'input untouched')
  t.notOk('imagePullPolicy' in (doc.spec.containers[0] ?? {}), 'input untouched')
})

t.test('applyPatch rejects what RFC 6902 rejects', async (t) => {
  const doc = { spec: { list: [1] } }
  t.throws(() => applyPatch(doc, [replace('/spec/missing', 1)]), /does not exist/)
  t.throws(() => applyPatch(doc, [add('/nope/deeper', 1)]), /does not exist/)
  t.throws(() => applyPatch(doc, [add('/spec/list/5', 1)]), /out of range/)
  t.throws(() => applyPatch(doc, [replace('/spec/list/1', 1)]), /out of range/)
  t.throws(() => applyPatch(doc, [add('', 1)]), /root/)
})
