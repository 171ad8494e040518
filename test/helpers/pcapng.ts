/**
 * A small pcapng writer for tests (draft-ietf-opsawg-pcapng): Section Header Blocks of either
 * byte order, Interface Description Blocks with if_tsresol (10^-n and 2^-n) and if_tsoffset,
 * Enhanced, Simple and obsolete Packet Blocks, Name Resolution, Interface Statistics, custom and
 * arbitrary unknown blocks. Each block's byte offset is recorded so tests can damage one.
 */
export type Endian = 'le' | 'be';

export interface PcapngOption {
  code: number;
  value: Buffer;
}

export const BT_SHB = 0x0a0d0d0a;
export const BT_IDB = 1;
export const BT_PB = 2;
export const BT_SPB = 3;
export const BT_NRB = 4;
export const BT_ISB = 5;
export const BT_EPB = 6;
export const BT_CUSTOM = 0x00000bad;
export const BT_CUSTOM_NOCOPY = 0x40000bad;

const BOM = 0x1a2b3c4d;

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** if_tsresol byte for 10^-n (`n`) or 2^-n (`{ pow2: n }`). */
export type TsResol = number | { pow2: number };

export function tsresolByte(r: TsResol): number {
  return typeof r === 'number' ? r : 0x80 | r.pow2;
}

/** Time-stamp units per second for an if_tsresol value. */
export function unitsPerSec(r: TsResol): bigint {
  return typeof r === 'number' ? 10n ** BigInt(r) : 1n << BigInt(r.pow2);
}

/** A capture time as a 64-bit count of units (rounded down). */
export function tsUnits(sec: number, nsec: number, r: TsResol = 6): bigint {
  const ups = unitsPerSec(r);
  return BigInt(sec) * ups + (BigInt(nsec) * ups) / 1_000_000_000n;
}

export interface IdbOptions {
  snaplen?: number;
  tsresol?: TsResol;
  /** if_tsoffset: seconds added to every time stamp of the interface. */
  tsoffset?: number;
  /** Extra options (if_name, if_description...), written before the resolution and offset. */
  options?: PcapngOption[];
}

export class PcapngBuilder {
  private readonly parts: Buffer[] = [];
  private size = 0;
  private endian: Endian;
  /** File offset of every block, in the order they were added. */
  readonly offsets: number[] = [];

  constructor(endian: Endian = 'le') {
    this.endian = endian;
  }

  get length(): number {
    return this.size;
  }

  u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.endian === 'le') b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  }

  u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.endian === 'le') b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return b;
  }

  i64(v: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (this.endian === 'le') b.writeBigInt64LE(v);
    else b.writeBigInt64BE(v);
    return b;
  }

  /** Options list: each (code, length, value padded to 4), then opt_endofopt. Empty list: nothing. */
  options(opts: PcapngOption[]): Buffer {
    if (!opts.length) return Buffer.alloc(0);
    const out: Buffer[] = [];
    for (const o of opts) {
      out.push(this.u16(o.code), this.u16(o.value.length), o.value, Buffer.alloc(pad4(o.value.length) - o.value.length));
    }
    out.push(this.u16(0), this.u16(0));
    return Buffer.concat(out);
  }

  /** Any block: type, total length, body padded to 4, total length again. */
  block(type: number, body: Buffer): this {
    const padded = pad4(body.length);
    const total = 12 + padded;
    const b = Buffer.concat([this.u32(type), this.u32(total), body, Buffer.alloc(padded - body.length), this.u32(total)]);
    this.offsets.push(this.size);
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  /** Starts a section, in `endian` (default: the builder's current byte order). */
  shb(opts: { endian?: Endian; options?: PcapngOption[] } = {}): this {
    if (opts.endian) this.endian = opts.endian;
    const body = Buffer.concat([this.u32(BOM), this.u16(1), this.u16(0), this.i64(-1n), this.options(opts.options ?? [])]);
    return this.block(BT_SHB, body);
  }

  idb(linktype: number, o: IdbOptions = {}): this {
    const opts = [...(o.options ?? [])];
    if (o.tsresol !== undefined) opts.push({ code: 9, value: Buffer.from([tsresolByte(o.tsresol)]) });
    if (o.tsoffset !== undefined) opts.push({ code: 14, value: this.i64(BigInt(o.tsoffset)) });
    const body = Buffer.concat([this.u16(linktype), this.u16(0), this.u32(o.snaplen ?? 262144), this.options(opts)]);
    return this.block(BT_IDB, body);
  }

  private tsWords(ts: bigint): Buffer {
    return Buffer.concat([this.u32(Number(ts >> 32n)), this.u32(Number(ts & 0xffffffffn))]);
  }

  private data(d: Buffer): Buffer {
    return Buffer.concat([d, Buffer.alloc(pad4(d.length) - d.length)]);
  }

  /** Enhanced Packet Block; `ts` in the interface's units. */
  epb(ifId: number, ts: bigint, data: Buffer, origLen = data.length, options: PcapngOption[] = []): this {
    const body = Buffer.concat([this.u32(ifId), this.tsWords(ts), this.u32(data.length), this.u32(origLen), this.data(data), this.options(options)]);
    return this.block(BT_EPB, body);
  }

  /** Obsolete Packet Block (type 2): 16-bit interface id and drops count. */
  pb(ifId: number, ts: bigint, data: Buffer, origLen = data.length): this {
    const body = Buffer.concat([this.u16(ifId), this.u16(0), this.tsWords(ts), this.u32(data.length), this.u32(origLen), this.data(data)]);
    return this.block(BT_PB, body);
  }

  /** Simple Packet Block: interface 0, no time stamp; `data` is what was captured (at most the snaplen). */
  spb(data: Buffer, origLen = data.length): this {
    return this.block(BT_SPB, Buffer.concat([this.u32(origLen), this.data(data)]));
  }

  /** Name Resolution Block: IPv4 (type 1) / IPv6 (type 2) records of address + NUL-terminated names. */
  nrb(records: { ip: Buffer; names: string[] }[]): this {
    const out: Buffer[] = [];
    for (const r of records) {
      const value = Buffer.concat([r.ip, ...r.names.map((n) => Buffer.from(`${n}\0`, 'latin1'))]);
      out.push(this.u16(r.ip.length === 4 ? 1 : 2), this.u16(value.length), this.data(value));
    }
    out.push(this.u16(0), this.u16(0));
    return this.block(BT_NRB, Buffer.concat(out));
  }

  /** Interface Statistics Block. */
  isb(ifId: number, ts: bigint): this {
    return this.block(BT_ISB, Buffer.concat([this.u32(ifId), this.tsWords(ts)]));
  }

  /** Custom block (copyable 0x00000BAD or not 0x40000BAD) with a Private Enterprise Number. */
  custom(pen: number, data: Buffer, copyable = true): this {
    return this.block(copyable ? BT_CUSTOM : BT_CUSTOM_NOCOPY, Buffer.concat([this.u32(pen), this.data(data)]));
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Option helpers for readability. */
export function stringOption(code: number, s: string): PcapngOption {
  return { code, value: Buffer.from(s, 'utf8') };
}
