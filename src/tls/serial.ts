/**
 * Certificate serial numbers (RFC 5280 4.1.2.2).
 */
import { randomBytes } from 'node:crypto'

// RFC 5280 4.1.2.2: "Certificate users MUST be able to handle serialNumber
// values up to 20 octets." 16 random bytes leave room for the sign byte.
const SERIAL_BYTES = 16

/**
 * A random, positive, non-zero certificate serial number as minimal DER
 * INTEGER content in hex (what forge's `serialNumber` holds).
 *
 * RFC 5280 4.1.2.2: the serial MUST be a positive integer, unique per CA,
 * at most 20 octets; CAs SHOULD use unpredictable serials (the CA/Browser
 * Forum asks for at least 64 random bits). A negative or zero serial, or a
 * non-minimal encoding (a leading 0x00 not needed for the sign), makes Go's
 * x509 parser reject the certificate outright.
 */
export function randomSerialNumber (random: (size: number) => Uint8Array = randomBytes): string {
  for (;;) {
    const bytes = Buffer.from(random(SERIAL_BYTES))
    if (bytes.length !== SERIAL_BYTES) throw new Error('random source returned the wrong number of bytes')
    bytes[0] = (bytes[0] ?? 0) & 0x7f // clear the high bit: DER integers are two's complement
    const value = BigInt('0x' + bytes.toString('hex'))
    if (value === 0n) continue // zero is not positive: draw again
    let hex = value.toString(16)
    if (hex.length % 2 === 1) hex = '0' + hex
    // Leading zero bytes were dropped above; put one back only when the top
    // bit is set, so the INTEGER stays positive and minimally encoded.
    if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = '00' + hex
    return hex
  }
}
