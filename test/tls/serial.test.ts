/**
 * Certificate serial numbers (src/tls/serial.ts): positive, non-zero,
 * minimal DER INTEGER content of at most 20 octets (RFC 5280 4.1.2.2), the
 * shape Go's crypto/x509 insists on. Fixed random sources pin each rule;
 * real draws from node:crypto must all keep it.
 */
import t from 'tap'
import { randomSerialNumber } from '../../src/tls/serial.js'

const SERIAL_BYTES = 16

/** A random source that hands out the given byte arrays in turn, and counts the draws. */
function source (...draws: number[][]): { random: () => Uint8Array, calls: () => number } {
  let calls = 0
  return {
    random: () => {
      const next = draws[calls++]
      if (next === undefined) throw new Error('no more draws')
      return Uint8Array.from(next)
    },
    calls: () => calls,
  }
}
const bytes = (...head: number[]): number[] => [...head, ...new Array<number>(SERIAL_BYTES - head.length).fill(0x11)]
const hexOf = (b: number[]): string => Buffer.from(b).toString('hex')

/** Minimal positive DER INTEGER content: no needless leading 0x00, top bit clear, not zero, at most 20 octets. */
function shapeProblem (hex: string): string | undefined {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return 'not whole octets of lowercase hex'
  if (hex.length / 2 > 20) return 'more than 20 octets'
  const first = Number.parseInt(hex.slice(0, 2), 16)
  const second = Number.parseInt(hex.slice(2, 4), 16)
  if (first >= 0x80) return 'negative'
  if (first === 0 && (hex.length === 2 || second < 0x80)) return 'not minimal'
  if (BigInt('0x' + hex) === 0n) return 'zero'
  return undefined
}

const cases: Array<[string, number[][], string, number]> = [
  ['the high bit is cleared, so the serial is positive', [bytes(0xff, 0xee)], hexOf(bytes(0x7f, 0xee)), 1],
  ['a serial without leading zeros is kept whole', [bytes(0x12)], hexOf(bytes(0x12)), 1],
  ['needless leading zero bytes are dropped', [bytes(0x00, 0x00, 0x42)], hexOf(bytes(0x42)).slice(0, -4), 1],
  ['one zero byte is put back before a top bit set', [bytes(0x00, 0x80)], '00' + hexOf(bytes(0x80)).slice(0, -2), 1],
  ['a high bit alone clears to a zero byte, dropped', [bytes(0x80, 0x01)], hexOf(bytes(0x01)).slice(0, -2), 1],
  ['zero is not positive: drawn again', [new Array<number>(SERIAL_BYTES).fill(0), [0x80, ...new Array<number>(SERIAL_BYTES - 1).fill(0)], bytes(0x05)], hexOf(bytes(0x05)), 3],
]
for (const [what, draws, want, calls] of cases) {
  t.test(what, async (t) => {
    const s = source(...draws)
    const serial = randomSerialNumber(s.random)
    t.equal(serial, want)
    t.equal(s.calls(), calls, 'draws taken')
    t.equal(shapeProblem(serial), undefined, 'a minimal positive INTEGER')
  })
}

t.test('a random source that returns the wrong number of bytes is an error, not a short serial', async (t) => {
  for (const size of [0, 8, SERIAL_BYTES + 1]) {
    t.throws(() => randomSerialNumber(() => new Uint8Array(size)), /wrong number of bytes/, `${size} bytes`)
  }
})

t.test('serials from node:crypto are all minimal, positive and distinct', async (t) => {
  const seen = new Set<string>()
  for (let i = 0; i < 500; i++) {
    const serial = randomSerialNumber()
    const problem = shapeProblem(serial)
    if (problem !== undefined) t.fail(`${serial}: ${problem}`)
    seen.add(serial)
  }
  t.equal(seen.size, 500, 'no repeats among 500 draws of 127 random bits')
})
