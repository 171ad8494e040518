/**
 * Live capture through the optional `cap` module (libpcap binding). `cap` is loaded lazily so that
 * importing this file never fails; everything else in sipscope works without it.
 *
 * What cap 0.2.1 does and does not give us (see node_modules/cap/src/binding.cc):
 * - no pcap_pkthdr timestamp, only the captured length: frames are stamped with a clock at delivery;
 * - libpcap snaplen is hard-coded to 65535 and promiscuous mode is always on;
 * - no pcap_stats, so stats() returns undefined;
 * - a Cap whose open() threw still holds a half-built handle and aborts the process when it is
 *   garbage-collected (its destructor stops a libuv poll handle never initialised). We keep every
 *   Cap we create reachable for the life of the process to avoid that.
 */
import { createRequire } from 'node:module';
import { SipscopeError } from './errors.js';
import type { Frame, FrameSink } from './types.js';

export interface InterfaceInfo {
  name: string;
  description?: string;
  addresses: string[];
  flags?: string;
}

export interface LiveOptions {
  device: string;
  /** BPF expression (tcpdump syntax). */
  filter?: string;
  /** Bytes kept per packet; cap cannot go above 65535 whatever is asked. Default 262144. */
  snaplen?: number;
  /** Kernel capture buffer in bytes. Default 16 MiB. */
  bufferSize?: number;
  /** Accepted for the CLI's sake; cap always opens the device in promiscuous mode. */
  promiscuous?: boolean;
  /** Timestamp source (cap has no packet timestamps); default is the wall clock with ns resolution. */
  clock?: Clock;
}

export interface LiveSession {
  readonly linktype: number;
  readonly device: string;
  stats(): { received: number; dropped: number } | undefined;
  close(): void;
}

export type Clock = () => { sec: number; nsec: number };

/** Wall clock anchored once, then advanced by the monotonic hrtime so ns are meaningful. */
export function makeWallClock(): Clock {
  const anchor = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => {
    const ns = anchor + process.hrtime.bigint();
    return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
  };
}

export const DEFAULT_SNAPLEN = 262144;
export const DEFAULT_BUFFER_SIZE = 16 * 1024 * 1024;
/** cap calls pcap_set_snaplen(65535) unconditionally. */
const CAP_MAX_SNAPLEN = 65535;

// --- the part of cap's API we use ---
interface CapAddress {
  addr?: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}
interface CapDevice {
  name: string;
  description?: string;
  addresses: CapAddress[];
  flags?: string;
}
interface CapInstance {
  /** Returns the link type name; throws Error(libpcap message) on failure. */
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): this;
  removeAllListeners(event?: string): this;
}
interface CapModule {
  Cap: { new (): CapInstance; deviceList(): CapDevice[] };
}

let capModule: CapModule | undefined;
/** See the header comment: Cap objects must never be collected. */
const keepAlive = new Set<CapInstance>();

function loadCap(): CapModule {
  if (capModule) return capModule;
  try {
    const mod = createRequire(import.meta.url)('cap') as Partial<CapModule>;
    if (typeof mod.Cap !== 'function' || typeof mod.Cap.deviceList !== 'function') {
      throw new Error('unexpected shape of the "cap" module');
    }
    capModule = mod as CapModule;
    return capModule;
  } catch {
    throw new SipscopeError(
      'E_NO_LIBPCAP',
      'live capture needs libpcap: install it (Debian/Ubuntu: apt-get install libpcap-dev) and run npm install again to build the optional "cap" module',
    );
  }
}

function newCap(cap: CapModule): CapInstance {
  const c = new cap.Cap();
  keepAlive.add(c);
  return c;
}

function errorMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();
}

export function listInterfaces(): InterfaceInfo[] {
  const cap = loadCap();
  let devices: CapDevice[];
  try {
    devices = cap.Cap.deviceList();
  } catch (e) {
    throw new SipscopeError('E_CAPTURE', `cannot list capture interfaces: ${errorMessage(e)}`);
  }
  return devices.map((d) => {
    const info: InterfaceInfo = {
      name: d.name,
      addresses: d.addresses.flatMap((a) => (a.addr ? [a.addr] : [])),
    };
    if (d.description) info.description = d.description;
    if (d.flags) info.flags = d.flags;
    return info;
  });
}

const LINKTYPES: Record<string, number> = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11_RADIO: 127,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
};

/**
 * cap names the link type ('ETHERNET', 'LINKTYPE_LINUX_SLL', ...) or, for the rest, says
 * "Unknown linktype <DLT>"; DLT and LINKTYPE values agree for everything that name-less path hits
 * on Linux, so the number is passed through.
 */
export function linktypeFromCap(name: string): number {
  const key = name.trim().toUpperCase().replace(/^(LINKTYPE_|DLT_)/, '');
  const known = LINKTYPES[key];
  if (known !== undefined) return known;
  const num = /(\d+)\s*$/.exec(name);
  return num ? Number(num[1]) : 0xffff;
}

function checkSize(what: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new SipscopeError('E_BAD_OPTION', `${what} must be an integer between 1 and ${max}, got ${value}`);
  }
  return value;
}

function permissionError(device: string): SipscopeError {
  return new SipscopeError(
    'E_PERMISSION',
    `permission denied capturing on ${device}: run as root or grant the capability: sudo setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))`,
  );
}

function noDeviceError(device: string): SipscopeError {
  return new SipscopeError('E_NO_DEVICE', `no such capture interface: ${device} (see: sipscope interfaces)`);
}

/** Turns cap's open() failure into a user-facing error. */
function openError(cap: CapModule, opts: Required<Pick<LiveOptions, 'device' | 'filter' | 'bufferSize'>>, buffer: Buffer, msg: string): SipscopeError {
  const { device, filter, bufferSize } = opts;
  if (/permission|not permitted|EPERM|EACCES/i.test(msg)) return permissionError(device);
  if (/no such device/i.test(msg)) return noDeviceError(device);
  if (filter !== '') {
    // cap compiles the filter after activating the device, and libpcap's compile messages have no
    // common prefix: if the device opens fine without the filter, the filter was the problem.
    const probe = newCap(cap);
    try {
      probe.open(device, '', bufferSize, buffer);
      probe.close();
      return new SipscopeError('E_BAD_FILTER', `bad capture filter "${filter}": ${msg}`);
    } catch (e) {
      msg = errorMessage(e);
      if (/permission|not permitted|EPERM|EACCES/i.test(msg)) return permissionError(device);
      if (/no such device/i.test(msg)) return noDeviceError(device);
    }
  }
  return new SipscopeError('E_CAPTURE', `cannot capture on ${device}: ${msg}`);
}

/**
 * Starts capturing; onFrame is called from the event loop for each packet until close().
 * The frame's data is a view into a buffer reused for the next packet.
 */
export function openLive(opts: LiveOptions, onFrame: FrameSink): LiveSession {
  const cap = loadCap();
  const device = opts.device;
  const filter = opts.filter?.trim() ?? '';
  const snaplen = checkSize('snaplen', opts.snaplen ?? DEFAULT_SNAPLEN, 0x7fffffff);
  const bufferSize = checkSize('capture buffer size', opts.bufferSize ?? DEFAULT_BUFFER_SIZE, 0x7fffffff);
  const clock = opts.clock ?? makeWallClock();

  // Checking the name first keeps libpcap from printing a "This may not actually work" warning
  // and avoids a failed open (whose Cap can never be freed).
  let known: CapDevice[] | undefined;
  try {
    known = cap.Cap.deviceList();
  } catch {
    known = undefined; // let open() report the problem
  }
  if (known && !known.some((d) => d.name === device)) throw noDeviceError(device);

  // cap copies each packet into this buffer, cutting it at the buffer's length.
  const buffer = Buffer.allocUnsafe(Math.min(snaplen, CAP_MAX_SNAPLEN));
  const c = newCap(cap);
  let linkName: string;
  try {
    linkName = c.open(device, filter, bufferSize, buffer);
  } catch (e) {
    throw openError(cap, { device, filter, bufferSize }, buffer, errorMessage(e));
  }
  const linktype = linktypeFromCap(linkName);

  let index = 0;
  let closed = false;
  c.on('packet', (nbytes: number) => {
    if (closed) return;
    const ts = clock();
    const frame: Frame = {
      tsSec: ts.sec,
      tsNsec: ts.nsec,
      linktype,
      data: buffer.subarray(0, nbytes),
      origLen: nbytes, // cap reports only the captured length
      index: ++index,
      offset: -1,
    };
    onFrame(frame);
  });

  return {
    linktype,
    device,
    stats: () => undefined,
    close(): void {
      if (closed) return;
      closed = true;
      c.close();
      c.removeAllListeners('packet');
    },
  };
}
