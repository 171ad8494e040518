/**
 * Integer reads off byte arrays for the per-packet paths (capture records, link, IP and transport
 * headers). Buffer's read methods are correct but a call to one goes through V8's generic
 * property lookup on every packet (measured: a loop of readUInt16BE calls takes five times as
 * long as the same reads done here). Unlike those, these do not throw past the end: callers
 * check bounds first, as every decoder path does before it reads a header.
 */
export function u16be(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function u32be(b: Uint8Array, o: number): number {
  return (b[o]! * 0x1000000) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

export function u32le(b: Uint8Array, o: number): number {
  return (b[o + 3]! * 0x1000000) + ((b[o + 2]! << 16) | (b[o + 1]! << 8) | b[o]!);
}
