import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, isIPv6, type Server, type Socket } from 'node:net';
import { FRAME_NOT_SIP, FRAME_OVERSIZE, FRAME_PARTIAL, frameMessage, skipKeepAlives } from '../sip/index.js';

export type Proto = 'UDP' | 'TCP';

/** One end of a SIP hop: where a message came from or goes to. */
export interface Peer {
  proto: Proto;
  ip: string;
  port: number;
}

export interface ListenSpec {
  proto: Proto;
  host: string;
  port: number;
}

export interface TransportEvents {
  /** A datagram or a framed stream message; `raw` is owned by the receiver. */
  message(raw: Buffer, from: Peer, local: Peer): void;
  /** Something was refused before parsing (oversize, garbage on a stream): counted and logged. */
  rejected(from: Peer, reason: string): void;
}

export const peerKey = (p: Peer): string => `${p.proto}|${p.ip}|${p.port}`;

const MAX_TCP_BUFFER = 1024 * 1024 + 65536;
const MAX_CONNECTIONS = 2048;
const IDLE_MS = 10 * 60 * 1000;

/** Parses `udp:127.0.0.1:5060,tcp:127.0.0.1:5060` (IPv6 hosts in brackets). */
export function parseListen(spec: string): ListenSpec[] {
  return spec.split(',').map((part) => {
    const m = /^(udp|tcp):(\[[^\]]+\]|[^:]+):(\d{1,5})$/i.exec(part.trim());
    if (!m) throw new Error(`bad --listen entry "${part}" (expected udp:HOST:PORT or tcp:HOST:PORT)`);
    return { proto: m[1]!.toUpperCase() as Proto, host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
  });
}

/**
 * UDP sockets and TCP listeners for the responder (RFC 3261 §18). Streams are framed with the
 * same code the analyzer uses; responses to TCP requests go back on their connection.
 */
export class SipTransport {
  private readonly udp: Array<{ socket: UdpSocket; local: Peer }> = [];
  private readonly tcpServers: Array<{ server: Server; local: Peer }> = [];
  private readonly connections = new Map<string, Socket>();
  /** Called for every message put on the wire (for --record). */
  onSent: ((bytes: Buffer, to: Peer, from: Peer) => void) | undefined;
  /** After close(), retransmission timers may still fire: their sends are dropped, not thrown. */
  private closed = false;

  constructor(private readonly events: TransportEvents) {}

  get locals(): Peer[] {
    return [...this.udp.map((u) => u.local), ...this.tcpServers.map((t) => t.local)];
  }

  localFor(proto: Proto): Peer | undefined {
    return this.locals.find((l) => l.proto === proto) ?? this.locals[0];
  }

  async listen(specs: ListenSpec[]): Promise<void> {
    for (const spec of specs) {
      if (spec.proto === 'UDP') await this.listenUdp(spec);
      else await this.listenTcp(spec);
    }
  }

  private listenUdp(spec: ListenSpec): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: isIPv6(spec.host) ? 'udp6' : 'udp4' });
      socket.once('error', reject);
      socket.bind(spec.port, spec.host, () => {
        socket.off('error', reject);
        socket.on('error', () => {}); // ICMP errors surface here; a server must not die of them
        const addr = socket.address();
        const local: Peer = { proto: 'UDP', ip: addr.address, port: addr.port };
        try {
          socket.setRecvBufferSize(8 * 1024 * 1024);
          socket.setSendBufferSize(8 * 1024 * 1024);
        } catch {
          // not permitted: the default buffers still work
        }
        socket.on('message', (msg, rinfo) => this.events.message(msg, { proto: 'UDP', ip: rinfo.address, port: rinfo.port }, local));
        this.udp.push({ socket, local });
        resolve();
      });
    });
  }

  private listenTcp(spec: ListenSpec): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((sock) => this.accept(sock, local));
      let local: Peer = { proto: 'TCP', ip: spec.host, port: spec.port };
      server.once('error', reject);
      server.listen(spec.port, spec.host, () => {
        server.off('error', reject);
        const addr = server.address();
        if (addr && typeof addr === 'object') local = { proto: 'TCP', ip: addr.address, port: addr.port };
        this.tcpServers.push({ server, local });
        resolve();
      });
    });
  }

  private accept(sock: Socket, local: Peer): void {
    const peer: Peer = { proto: 'TCP', ip: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
    if (this.connections.size >= MAX_CONNECTIONS) {
      this.events.rejected(peer, 'too many TCP connections');
      sock.destroy();
      return;
    }
    this.track(sock, peer, local);
  }

  private track(sock: Socket, peer: Peer, local: Peer): void {
    const key = peerKey(peer);
    this.connections.set(key, sock);
    sock.setNoDelay(true);
    sock.setTimeout(IDLE_MS, () => sock.destroy());
    let pending: Buffer | undefined;
    sock.on('data', (data: Buffer) => {
      let buf = pending ? Buffer.concat([pending, data]) : data;
      pending = undefined;
      let off = 0;
      for (;;) {
        off = skipKeepAlives(buf, off);
        if (off >= buf.length) break;
        const end = frameMessage(buf, off);
        if (end >= 0) {
          this.events.message(Buffer.from(buf.subarray(off, end)), peer, local);
          off = end;
          continue;
        }
        if (end === FRAME_PARTIAL) {
          if (buf.length - off > MAX_TCP_BUFFER) {
            this.events.rejected(peer, 'TCP message too large');
            sock.destroy();
            return;
          }
          pending = Buffer.from(buf.subarray(off));
          break;
        }
        // Garbage or an oversized message on a stream cannot be resynchronised safely: close it.
        this.events.rejected(peer, end === FRAME_OVERSIZE ? 'oversized SIP message' : end === FRAME_NOT_SIP ? 'not SIP' : 'unframeable');
        sock.destroy();
        return;
      }
      buf = Buffer.alloc(0);
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      if (this.connections.get(key) === sock) this.connections.delete(key);
    });
  }

  /** Sends bytes to a peer: UDP from the first UDP socket, TCP on the peer's connection or a new one. */
  send(to: Peer, bytes: Buffer): void {
    if (this.closed) return;
    if (to.proto === 'UDP') {
      const u = this.udp.find((x) => isIPv6(x.local.ip) === isIPv6(to.ip)) ?? this.udp[0];
      if (!u) return;
      u.socket.send(bytes, to.port, to.ip);
      this.onSent?.(bytes, to, u.local);
      return;
    }
    let sock = this.connections.get(peerKey(to));
    const local = this.localFor('TCP') ?? { proto: 'TCP' as const, ip: '127.0.0.1', port: 0 };
    if (!sock || sock.destroyed) {
      sock = createConnection({ host: to.ip, port: to.port });
      sock.on('error', () => {});
      this.track(sock, to, local);
    }
    sock.write(bytes);
    this.onSent?.(bytes, to, { proto: 'TCP', ip: sock.localAddress ?? local.ip, port: sock.localPort ?? local.port });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const u of this.udp) u.socket.close();
    for (const c of this.connections.values()) c.destroy();
    await Promise.all(this.tcpServers.map((t) => new Promise<void>((r) => t.server.close(() => r()))));
  }
}
