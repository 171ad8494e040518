/// <reference path="./helpers/hep-js.d.ts" />
import { test } from 'node:test';
import assert from 'node:assert/strict';
import hepjs from 'hep-js';
import { ipPacket, tcpSegment, udpFrame, udpSegment } from '../src/net/encode.js';
import { Counters } from '../src/net/counters.js';
import { Reassembler } from '../src/net/fragments.js';
import { WsFrameParser, type WsEvents } from '../src/net/websocket.js';
import { SipExtractor, type SipPacket } from '../src/sip/extractor.js';
import {
  ETH_IPV4, ETH_IPV6, ETH_MPLS, ETH_PPPOE, ETH_QINQ, ETH_VLAN, IPV4_OPTIONS, PROTO_GRE, PROTO_ICMP, PROTO_ICMPV6, PROTO_IPIP,
  PROTO_IPV6, PROTO_SCTP, PROTO_UDP, T0, erspanI, erspanII, erspanIII, ethIp, ethernet, ethernetTagged, extract, extractData,
  gre, gtpu, hepChunk, hepV2, hepV3, icmpError, icmpv6Error, ipv4Fragments, ipv4Packet, ipv6Ext, ipv6FragHeader, ipv6Fragments,
  ipv6Packet, loopHeader, mkFrame, mkFrames, mplsStack, nullHeader, pppHeader, pppoeSession, sctpDataChunk, sctpPacket,
  sctpSackChunk, sdpBody, sipInvite, sipOk, sll2Header, sllHeader, udpIp, vxlan, wsFrame,
} from './helpers/frames.js';
import { u16be, u32be, u32le } from '../src/capture/bytes.js';
import { rng } from './helpers/frames.js';

const A = '192.0.2.10';
const B = '192.0.2.20';
const A6 = '2001:db8::10';
const B6 = '2001:db8::20';

/** The UDP/IPv4 INVITE most tests carry, as an IP packet. */
function inviteIp(callId = 'net@test', src = A, dst = B, sport = 5060, dport = 5060): Buffer {
  return udpIp(src, dst, sport, dport, sipInvite(callId));
}

function only(packets: SipPacket[]): SipPacket {
  assert.equal(packets.length, 1, `expected one message, got ${packets.length}`);
  return packets[0]!;
}

function assertInvite(datas: Buffer[], linktype: number, callId = 'net@test', family: 4 | 6 = 4): SipPacket {
  const r = extractData(datas, linktype);
  const p = only(r.packets);
  assert.equal(p.msg.method, 'INVITE');
  assert.equal(p.msg.callId, callId);
  assert.equal(p.meta.family, family);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Link types

test('Ethernet (1): a plain frame gives the message with addresses, ports, time and frame number', () => {
  const frames = mkFrames([udpFrame(A, B, 5062, 5080, sipInvite('eth@test'))], 1, { t0Sec: T0 + 5 });
  frames[0]!.tsNsec = 42_000;
  frames[0]!.index = 17;
  frames[0]!.offset = 4242;
  const r = extract(frames);
  const p = only(r.packets);
  assert.deepEqual(p.meta, { tsSec: T0 + 5, tsNsec: 42_000, frame: 17, offset: 4242, src: A, dst: B, sport: 5062, dport: 5080, family: 4 });
  assert.equal(p.transport, 'UDP');
  assert.equal(r.counters.frames, 1);
  assert.equal(r.counters.ipv4, 1);
  assert.equal(r.counters.udp, 1);
  assert.equal(r.counters.linktypes.get(1), 1);
});

test('Ethernet with an 802.1Q VLAN tag', () => {
  assertInvite([ethernetTagged([{ tpid: ETH_VLAN, vid: 100 }], ETH_IPV4, inviteIp())], 1);
});

test('Ethernet with stacked 802.1ad + 802.1Q tags (QinQ), and the old 0x9100 outer TPID', () => {
  assertInvite([ethernetTagged([{ tpid: ETH_QINQ, vid: 10 }, { tpid: ETH_VLAN, vid: 200 }], ETH_IPV4, inviteIp())], 1);
  assertInvite([ethernetTagged([{ tpid: 0x9100, vid: 10 }, { tpid: ETH_VLAN, vid: 200 }], ETH_IPV6, udpIp(A6, B6, 5060, 5060, sipInvite('net@test')))], 1, 'net@test', 6);
  assertInvite([ethernetTagged([{ tpid: ETH_QINQ, vid: 1 }, { tpid: ETH_QINQ, vid: 2 }, { tpid: ETH_VLAN, vid: 3 }], ETH_IPV4, inviteIp())], 1);
});

test('Linux cooked captures: SLL (113) and SLL2 (276), IPv4 and IPv6', () => {
  const v6 = udpIp(A6, B6, 5060, 5060, sipInvite('net@test'));
  assertInvite([Buffer.concat([sllHeader(ETH_IPV4), inviteIp()])], 113);
  assertInvite([Buffer.concat([sllHeader(ETH_IPV6, 4), v6])], 113, 'net@test', 6);
  assertInvite([Buffer.concat([sll2Header(ETH_IPV4), inviteIp()])], 276);
  assertInvite([Buffer.concat([sll2Header(ETH_IPV6), v6])], 276, 'net@test', 6);
  // SLL carrying a VLAN-tagged packet (protocol 0x8100).
  assertInvite([Buffer.concat([sllHeader(ETH_VLAN), Buffer.from([0x00, 0x64, 0x08, 0x00]), inviteIp()])], 113);
});

test('raw IP link types 101, 12 and 14 carry IPv4 and IPv6 (version from the first nibble)', () => {
  for (const lt of [101, 12, 14]) {
    assertInvite([inviteIp()], lt);
    assertInvite([udpIp(A6, B6, 5060, 5060, sipInvite('net@test'))], lt, 'net@test', 6);
  }
});

test('LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229)', () => {
  assertInvite([inviteIp()], 228);
  assertInvite([udpIp(A6, B6, 5060, 5060, sipInvite('net@test'))], 229, 'net@test', 6);
});

test('NULL (0): the address family in either byte order; AF_INET6 as 24, 28 and 30', () => {
  const v6 = udpIp(A6, B6, 5060, 5060, sipInvite('net@test'));
  for (const endian of ['le', 'be'] as const) {
    assertInvite([Buffer.concat([nullHeader(2, endian), inviteIp()])], 0);
    for (const af of [24, 28, 30]) assertInvite([Buffer.concat([nullHeader(af, endian), v6])], 0, 'net@test', 6);
  }
  const r = extractData([Buffer.concat([nullHeader(7, 'le'), inviteIp()])], 0);
  assert.equal(r.packets.length, 0);
  assert.equal(r.drop('non-ip'), 1, 'an unknown address family is not IP');
});

test('LOOP (108): the address family in network byte order', () => {
  assertInvite([Buffer.concat([loopHeader(2), inviteIp()])], 108);
  assertInvite([Buffer.concat([loopHeader(24), udpIp(A6, B6, 5060, 5060, sipInvite('net@test'))])], 108, 'net@test', 6);
});

test('PPP (9) with and without HDLC address/control bytes, and PPP in HDLC framing (50)', () => {
  assertInvite([Buffer.concat([pppHeader(0x0021, true), inviteIp()])], 9);
  assertInvite([Buffer.concat([pppHeader(0x0021, false), inviteIp()])], 9);
  assertInvite([Buffer.concat([pppHeader(0x0057, true), udpIp(A6, B6, 5060, 5060, sipInvite('net@test'))])], 9, 'net@test', 6);
  assertInvite([Buffer.concat([pppHeader(0x0021, true), inviteIp()])], 50);
  const lcp = extractData([Buffer.concat([pppHeader(0xc021, true), Buffer.alloc(20)])], 9);
  assert.equal(lcp.drop('non-ip'), 1);
});

test('PPPoE link type (51): a PPPoE session header with no Ethernet before it', () => {
  assertInvite([pppoeSession(0x0042, inviteIp())], 51);
  assertInvite([pppoeSession(0x0042, udpIp(A6, B6, 5060, 5060, sipInvite('net@test')))], 51, 'net@test', 6);
});

test('an unknown link type is counted (unknown-linktype), not fatal: the next frame is decoded', () => {
  const r = extract([mkFrame(Buffer.alloc(60, 1), 147, 1), mkFrame(Buffer.alloc(10), 9999, 2), mkFrame(udpFrame(A, B, 5060, 5060, sipInvite('after@test')), 1, 3)]);
  assert.equal(r.drop('unknown-linktype'), 2);
  assert.deepEqual(r.callIds, ['after@test']);
  assert.equal(r.counters.linktypes.get(147), 1);
  assert.equal(r.counters.frames, 3);
});

test('truncated link headers and non-IP EtherTypes are counted, not decoded', () => {
  const r = extract([
    mkFrame(Buffer.alloc(10), 1, 1), // shorter than an Ethernet header
    mkFrame(Buffer.alloc(8), 113, 2), // shorter than SLL
    mkFrame(Buffer.alloc(2), 0, 3), // shorter than NULL's 4 bytes
    mkFrame(ethernet(0x0806, Buffer.alloc(28)), 1, 4), // ARP
    mkFrame(ethernetTagged([{ tpid: ETH_VLAN, vid: 5 }], ETH_IPV4, Buffer.alloc(0)).subarray(0, 16), 1, 5), // tag cut short
    mkFrame(ethernet(ETH_IPV4, inviteIp().subarray(0, 12)), 1, 6), // IPv4 header cut short
  ]);
  assert.equal(r.packets.length, 0);
  assert.equal(r.drop('truncated-link'), 4);
  assert.equal(r.drop('non-ip'), 1);
  assert.equal(r.drop('truncated-ip'), 1);
});

test('headers cut by the snaplen are counted as snaplen-cut, the same bytes sent short as truncated', () => {
  const whole = ethernet(ETH_IPV4, inviteIp());
  const cut = (n: number, index: number): ReturnType<typeof mkFrame> => ({ ...mkFrame(whole.subarray(0, n), 1, index), origLen: whole.length });
  const r = extract([
    cut(10, 1), // inside the Ethernet header
    cut(14 + 12, 2), // inside the IPv4 header
    cut(14 + 20 + 4, 3), // inside the UDP header
    mkFrame(whole.subarray(0, 14 + 12), 1, 4), // as short on the wire: damage, not snaplen
    mkFrame(whole, 1, 5),
  ]);
  assert.equal(r.drop('snaplen-cut'), 3);
  assert.equal(r.drop('truncated-ip'), 1);
  assert.equal(r.drop('truncated-link'), 0);
  assert.equal(r.drop('truncated-l4'), 0);
  assert.equal(r.packets.length, 1, 'the whole frame still yields its message');
});

// ---------------------------------------------------------------------------------------------
// IP

test('IPv4 with options (IHL 7): the payload starts after them', () => {
  const seg = udpSegment(A, B, 5060, 5060, sipInvite('opts@test'));
  const ip = ipv4Packet({ src: A, dst: B, proto: PROTO_UDP, options: IPV4_OPTIONS }, seg);
  assert.equal(ip[0], 0x47);
  assertInvite([ethIp(ip)], 1, 'opts@test');
});

test('IPv4 with an impossible header length, or a version that is not 4, is counted as bad-ip-header', () => {
  const small = inviteIp();
  small[0] = 0x44; // IHL 4: 16 bytes
  const v5 = inviteIp();
  v5[0] = 0x55;
  const r = extractData([ethIp(small), ethernet(ETH_IPV4, v5)]);
  assert.equal(r.packets.length, 0);
  assert.equal(r.drop('bad-ip-header'), 2);
});

test('IPv4: Ethernet padding after the datagram is not part of the message', () => {
  const msg = sipInvite('pad@test');
  const frame = Buffer.concat([udpFrame(A, B, 5060, 5060, msg), Buffer.from('\r\nTRAILER-GARBAGE')]);
  const p = assertInvite([frame], 1, 'pad@test');
  assert.ok(p.msg.raw.equals(msg));
});

test('IPv4 total length 0 (TSO capture) takes the captured bytes', () => {
  const ip = inviteIp('tso@test');
  ip.writeUInt16BE(0, 2);
  assertInvite([ethIp(ip)], 1, 'tso@test');
});

test('IPv6 with hop-by-hop, routing and destination-options extension headers', () => {
  const seg = udpSegment(A6, B6, 5060, 5060, sipInvite('ext6@test'));
  const hbh = ipv6Ext(0, Buffer.from([0x05, 0x02, 0x00, 0x00])); // router alert
  const rth = ipv6Ext(0, Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0]), Buffer.alloc(16, 0x20)])); // type 0, 1 segment left 0
  const dst = ipv6Ext(0, Buffer.alloc(12)); // PadN only, 16 bytes in all
  const ip = ipv6Packet(A6, B6, PROTO_UDP, seg, [[0, hbh], [43, rth], [60, dst]]);
  const p = assertInvite([ethIp(ip)], 1, 'ext6@test', 6);
  assert.equal(p.meta.src, A6);
  assert.equal(p.meta.dst, B6);
  const two = ipv6Packet(A6, B6, PROTO_UDP, seg, [[0, hbh], [60, dst]]);
  assertInvite([ethIp(two)], 1, 'ext6@test', 6);
});

test('IPv6 extension header running past the packet is counted as truncated-ip', () => {
  const hbh = ipv6Ext(0, Buffer.alloc(4));
  const ip = ipv6Packet(A6, B6, PROTO_UDP, Buffer.alloc(0), [[0, hbh]]);
  ip[41] = 20; // claims 168 bytes
  const r = extractData([ethIp(ip)], 1);
  assert.equal(r.drop('truncated-ip'), 1);
});

const BIG_BODY = sdpBody(1500);

function bigUdp(callId: string, src = A, dst = B): Buffer {
  return udpSegment(src, dst, 5060, 5060, sipInvite(callId, { body: BIG_BODY }));
}

test('IPv4 fragments in order and out of order are reassembled into one message', () => {
  const seg = bigUdp('frag@test');
  const frags = ipv4Fragments({ src: A, dst: B, proto: PROTO_UDP, id: 0x4242 }, seg, 600).map(ethIp);
  assert.equal(frags.length, 4);
  for (const order of [[0, 1, 2, 3], [3, 1, 0, 2], [3, 2, 1, 0]]) {
    const r = extractData(order.map((i) => frags[i]!), 1);
    const p = only(r.packets);
    assert.equal(p.msg.callId, 'frag@test');
    assert.equal(p.msg.body.toString(), BIG_BODY, `order ${order}`);
    assert.equal(p.meta.frame, 4, 'the frame that completed it');
    assert.equal(r.counters.reassembledFragments, 1);
    assert.equal(r.drop('fragment-timeout'), 0);
  }
});

test('IPv4 fragments duplicated before completion give one message and no overlap', () => {
  const frags = ipv4Fragments({ src: A, dst: B, proto: PROTO_UDP, id: 7 }, bigUdp('dup@test'), 800).map(ethIp);
  const r = extractData([frags[0]!, frags[0]!, frags[1]!, frags[1]!, frags[2]!], 1);
  assert.deepEqual(r.callIds, ['dup@test']);
  assert.equal(r.drop('fragment-overlap'), 0);
  assert.equal(r.drop('fragment-timeout'), 0);
});

test('IPv4 overlapping fragments are counted (fragment-overlap); consistent bytes still reassemble', () => {
  const seg = bigUdp('overlap@test');
  const pieces = [
    ipv4Packet({ src: A, dst: B, proto: PROTO_UDP, id: 9, fragOffset: 0, more: true }, seg.subarray(0, 800)),
    ipv4Packet({ src: A, dst: B, proto: PROTO_UDP, id: 9, fragOffset: 792, more: true }, seg.subarray(792, 1600)),
    ipv4Packet({ src: A, dst: B, proto: PROTO_UDP, id: 9, fragOffset: 1600, more: false }, seg.subarray(1600)),
  ].map(ethIp);
  const r = extractData(pieces, 1);
  assert.equal(r.drop('fragment-overlap'), 1);
  assert.deepEqual(r.callIds, ['overlap@test']);
  assert.equal(r.packets[0]!.msg.body.toString(), BIG_BODY);
});

test('IPv4 fragments never completed are counted as fragment-timeout at finish', () => {
  const frags = ipv4Fragments({ src: A, dst: B, proto: PROTO_UDP, id: 11 }, bigUdp('lost@test'), 600).map(ethIp);
  const r = extractData([frags[0]!, frags[2]!, frags[3]!], 1); // the second never arrives
  assert.equal(r.packets.length, 0);
  assert.equal(r.drop('fragment-timeout'), 1);
  const first = extractData([frags[1]!], 1); // no first fragment, no last
  assert.equal(first.drop('fragment-timeout'), 1);
});

test('fragment limits: older than 30 s (fragment-timeout), beyond 65535 bytes, more than 4096 open (fragment-overflow)', () => {
  // Time: a fragment left open 31 s is dropped when capture time moves on.
  const frags = ipv4Fragments({ src: A, dst: B, proto: PROTO_UDP, id: 21 }, bigUdp('slow@test'), 600).map(ethIp);
  const packets: SipPacket[] = [];
  const x = new SipExtractor((p) => packets.push(p));
  x.frame(mkFrame(frags[0]!, 1, 1, T0));
  x.frame(mkFrame(udpFrame(A, B, 5060, 5060, sipInvite('tick@test')), 1, 2, T0 + 31));
  for (const [i, f] of frags.slice(1).entries()) x.frame(mkFrame(f, 1, 3 + i, T0 + 31));
  assert.equal(x.counters.drops.get('fragment-timeout'), 1, 'expired when the next fragment came');
  x.finish();
  assert.deepEqual(packets.map((p) => p.msg.callId), ['tick@test'], 'the late rest alone never completes');
  assert.equal(x.counters.drops.get('fragment-timeout'), 2);

  // Size: a fragment ending past 65535 bytes.
  const huge = ipv4Packet({ src: A, dst: B, proto: PROTO_UDP, id: 22, fragOffset: 65528, more: false }, Buffer.alloc(16));
  const first = ipv4Packet({ src: A, dst: B, proto: PROTO_UDP, id: 22, fragOffset: 0, more: true }, Buffer.alloc(64));
  const r = extractData([ethIp(first), ethIp(huge)], 1);
  assert.equal(r.drop('fragment-overflow'), 1);
  assert.equal(r.drop('fragment-timeout'), 0, 'the oversized datagram is dropped whole');

  // Count: 4097 datagrams open at once push out the oldest.
  const many: Buffer[] = [];
  for (let id = 0; id < 4097; id++) many.push(ethIp(ipv4Packet({ src: A, dst: B, proto: PROTO_UDP, id, fragOffset: 0, more: true }, Buffer.alloc(16))));
  const m = extractData(many, 1);
  assert.equal(m.drop('fragment-overflow'), 1);
  assert.equal(m.drop('fragment-timeout'), 4096);
});

test('Reassembler limits can be set: maxOpen, maxBytes and timeoutSec', () => {
  const c = new Counters();
  const r = new Reassembler(c, { maxOpen: 2, timeoutSec: 5, maxBytes: 100 });
  assert.equal(r.add('a', 0, true, Buffer.alloc(8), T0), undefined);
  assert.equal(r.add('b', 0, true, Buffer.alloc(8), T0), undefined);
  assert.equal(r.add('c', 0, true, Buffer.alloc(8), T0), undefined);
  assert.equal(c.drops.get('fragment-overflow'), 1);
  assert.equal(r.size, 2);
  assert.equal(r.add('d', 96, false, Buffer.alloc(8), T0), undefined, 'ends at 104 > 100');
  assert.equal(c.drops.get('fragment-overflow'), 2);
  const whole = r.add('c', 8, false, Buffer.from('12345678'), T0 + 1);
  assert.equal(whole?.length, 16);
  r.add('e', 0, true, Buffer.alloc(8), T0 + 10);
  assert.equal(c.drops.get('fragment-timeout'), 1, 'b timed out');
  r.flush();
  assert.equal(c.drops.get('fragment-timeout'), 2);
  assert.equal(r.size, 0);
});

test('IPv6 fragments (Fragment header 44) out of order are reassembled', () => {
  const seg = udpSegment(A6, B6, 5060, 5060, sipInvite('frag6@test', { body: BIG_BODY }));
  const frags = ipv6Fragments(A6, B6, PROTO_UDP, seg, 504, 0xabcdef).map(ethIp);
  assert.equal(frags.length, 4);
  const r = extractData([frags[2]!, frags[0]!, frags[3]!, frags[1]!], 1);
  const p = only(r.packets);
  assert.equal(p.msg.callId, 'frag6@test');
  assert.equal(p.meta.family, 6);
  assert.equal(r.counters.reassembledFragments, 1);
  // After a hop-by-hop header too.
  const withHbh = ipv6Packet(A6, B6, PROTO_UDP, seg.subarray(0, 504), [[0, ipv6Ext(0, Buffer.alloc(4))], [44, ipv6FragHeader(0, 0, true, 5)]]);
  const rest = ipv6Packet(A6, B6, PROTO_UDP, seg.subarray(504), [[44, ipv6FragHeader(0, 504, false, 5)]]);
  assert.deepEqual(extractData([ethIp(rest), ethIp(withHbh)], 1).callIds, ['frag6@test']);
  // An atomic fragment (offset 0, M clear) is simply a packet.
  const atomic = ipv6Packet(A6, B6, PROTO_UDP, seg, [[44, ipv6FragHeader(0, 0, false, 6)]]);
  assert.deepEqual(extractData([ethIp(atomic)], 1).callIds, ['frag6@test']);
});

test('IPv6 fragments whose fragmentable part starts with a destination-options header reassemble', () => {
  const seg = udpSegment(A6, B6, 5060, 5060, sipInvite('fragdst6@test', { body: BIG_BODY }));
  // Fragmentable part (RFC 8200 §4.5): destination options, then the UDP datagram.
  const dstOpts = ipv6Ext(PROTO_UDP, Buffer.alloc(14)); // 16 bytes
  const part = Buffer.concat([dstOpts, seg]);
  const frags: Buffer[] = [];
  for (let off = 0; off < part.length; off += 800) {
    frags.push(ipv6Packet(A6, B6, 60, part.subarray(off, off + 800), [[44, ipv6FragHeader(60, off, off + 800 < part.length, 31)]]));
  }
  for (const order of [[0, 1, 2], [2, 1, 0]]) {
    const r = extractData(order.map((i) => ethIp(frags[i]!)), 1);
    assert.deepEqual(r.callIds, ['fragdst6@test'], `order ${order}`);
    assert.equal(r.drop('fragment-timeout'), 0);
  }
});

test('IPv6 fragments never completed are counted at finish', () => {
  const seg = udpSegment(A6, B6, 5060, 5060, sipInvite('lost6@test', { body: BIG_BODY }));
  const frags = ipv6Fragments(A6, B6, PROTO_UDP, seg, 504, 77).map(ethIp);
  const r = extractData(frags.slice(0, 3), 1);
  assert.equal(r.packets.length, 0);
  assert.equal(r.drop('fragment-timeout'), 1);
});

test('SIP is found by content on unusual ports (UDP 40000, 5080, 1024) and over IPv6', () => {
  const r = extractData([
    udpFrame(A, B, 40000, 40000, sipInvite('p40000@test')),
    udpFrame(A, B, 1024, 5080, sipOk('p5080@test')),
    udpFrame(A6, B6, 33333, 44444, sipInvite('p6@test')),
  ]);
  assert.deepEqual(r.labels, ['INVITE p40000@test', '200 p5080@test', 'INVITE p6@test']);
  assert.deepEqual([r.packets[2]!.meta.sport, r.packets[2]!.meta.dport, r.packets[2]!.meta.src], [33333, 44444, A6]);
});

test('messages handed out by a retaining extractor own their bytes: reusing the frame buffer does not change them', () => {
  const frames = mkFrames([udpFrame(A, B, 5060, 5060, sipInvite('own@test')), udpFrame(A, B, 5060, 5060, sipOk('own@test'))]);
  const before = frames.map((f) => Buffer.from(f.data));
  const r = extract(frames);
  for (const f of frames) f.data.fill(0x58); // a reader reusing its buffers
  assert.equal(r.packets.length, 2);
  for (let i = 0; i < 2; i++) {
    const msg = r.packets[i]!.msg;
    assert.ok(before[i]!.includes(msg.raw), 'still the bytes its frame held');
    assert.equal(msg.get('call-id'), 'own@test');
  }
  assert.deepEqual(r.packets.map((p) => p.msg.startLine), ['INVITE sip:bob@example.com SIP/2.0', 'SIP/2.0 200 OK']);
});

test('UDP that is not SIP (and CRLF keep-alives) yields no message and is counted', () => {
  const r = extractData([
    udpFrame(A, B, 5060, 5060, Buffer.from('\r\n\r\n')),
    udpFrame(A, B, 53, 53, Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0])),
    udpFrame(A, B, 5060, 5060, Buffer.from('HTTP/1.1 200 OK\r\n\r\n')),
    udpFrame(A, B, 5060, 5060, Buffer.alloc(0)),
  ]);
  assert.equal(r.packets.length, 0);
  assert.equal(r.drop('keep-alive'), 1);
  assert.equal(r.drop('not-sip'), 3);
});

test('unknown IP protocols are counted as other-l4; short UDP/TCP headers as truncated-l4', () => {
  const r = extractData([
    ethIp(ipv4Packet({ src: A, dst: B, proto: 89 }, Buffer.alloc(40))), // OSPF
    ethIp(ipv4Packet({ src: A, dst: B, proto: PROTO_UDP }, Buffer.alloc(5))),
    ethIp(ipv4Packet({ src: A, dst: B, proto: 6 }, Buffer.alloc(12))),
  ]);
  assert.equal(r.drop('other-l4'), 1);
  assert.equal(r.drop('truncated-l4'), 2);
});

// ---------------------------------------------------------------------------------------------
// Tunnels

test('PPPoE session (0x8864) carrying IPv4 and IPv6', () => {
  assertInvite([ethernet(ETH_PPPOE, pppoeSession(0x1234, inviteIp()))], 1);
  const r = extractData([ethernet(ETH_PPPOE, pppoeSession(1, udpIp(A6, B6, 5060, 5060, sipInvite('pppoe6@test'))))]);
  assert.deepEqual(r.callIds, ['pppoe6@test']);
  assert.equal(r.counters.tunnels.get('pppoe'), 1);
});

test('MPLS label stacks (one and three labels) before IPv4 and IPv6', () => {
  assertInvite([ethernet(ETH_MPLS, mplsStack([16], inviteIp()))], 1);
  const r = extractData([ethernet(ETH_MPLS, mplsStack([100, 200, 300], udpIp(A6, B6, 5060, 5060, sipInvite('mpls6@test'))))]);
  assert.deepEqual(r.callIds, ['mpls6@test']);
  assert.equal(r.counters.tunnels.get('mpls'), 1);
});

test('IP-in-IP (protocol 4) and IPv6-in-IPv4 (41): the inner addresses are reported', () => {
  const outer = ipv4Packet({ src: '203.0.113.1', dst: '203.0.113.2', proto: PROTO_IPIP }, inviteIp('ipip@test'));
  const p = assertInvite([ethIp(outer)], 1, 'ipip@test');
  assert.deepEqual([p.meta.src, p.meta.dst], [A, B]);
  const six = ipv4Packet({ src: '203.0.113.1', dst: '203.0.113.2', proto: PROTO_IPV6 }, udpIp(A6, B6, 5060, 5060, sipInvite('6in4@test')));
  const r = extractData([ethIp(six)]);
  assert.deepEqual(r.callIds, ['6in4@test']);
  assert.equal(r.packets[0]!.meta.src, A6);
  assert.equal(r.counters.tunnels.get('ipv6-in-ip'), 1);
  // IPv4 in IPv6.
  const v4in6 = ipv6Packet('2001:db8::1', '2001:db8::2', PROTO_IPIP, inviteIp('4in6@test'));
  assert.deepEqual(extractData([ethIp(v4in6)]).callIds, ['4in6@test']);
});

function overGre(greBytes: Buffer): Buffer {
  return ethIp(ipv4Packet({ src: '203.0.113.1', dst: '203.0.113.2', proto: PROTO_GRE }, greBytes));
}

test('GRE: plain, with key and sequence number, with checksum; IPv4 and IPv6 inside', () => {
  assertInvite([overGre(gre({ proto: ETH_IPV4 }, inviteIp('gre@test')))], 1, 'gre@test');
  assertInvite([overGre(gre({ proto: ETH_IPV4, key: 0xdeadbeef, seq: 42 }, inviteIp('grekey@test')))], 1, 'grekey@test');
  assertInvite([overGre(gre({ proto: ETH_IPV4, checksum: true, key: 1 }, inviteIp('grecs@test')))], 1, 'grecs@test');
  const r = extractData([overGre(gre({ proto: ETH_IPV6, seq: 1 }, udpIp(A6, B6, 5060, 5060, sipInvite('gre6@test'))))]);
  assert.deepEqual(r.callIds, ['gre6@test']);
  assert.equal(r.counters.tunnels.get('gre'), 1);
  // GRE over IPv6.
  const v6outer = ipv6Packet('2001:db8::1', '2001:db8::2', PROTO_GRE, gre({ proto: ETH_IPV4 }, inviteIp('gre-over-6@test')));
  assert.deepEqual(extractData([ethIp(v6outer)]).callIds, ['gre-over-6@test']);
});

test('GRE with transparent Ethernet bridging (0x6558) carries a whole Ethernet frame', () => {
  const inner = ethernetTagged([{ tpid: ETH_VLAN, vid: 33 }], ETH_IPV4, inviteIp('teb@test'));
  assertInvite([overGre(gre({ proto: 0x6558, key: 5 }, inner))], 1, 'teb@test');
});

test('ERSPAN type I, II and III (with and without the platform subheader)', () => {
  const inner = udpFrame(A, B, 5060, 5060, sipInvite('erspan@test'));
  for (const g of [erspanI(inner), erspanII(inner), erspanIII(inner, false), erspanIII(inner, true)]) {
    const p = assertInvite([overGre(g)], 1, 'erspan@test');
    assert.deepEqual([p.meta.src, p.meta.dst], [A, B]);
  }
});

test('PPTP enhanced GRE (version 1) carrying PPP', () => {
  const ppp = Buffer.concat([pppHeader(0x0021, true), inviteIp('pptp@test')]);
  assertInvite([overGre(gre({ proto: 0x880b, version: 1, key: 0x0007, seq: 3, ack: 2 }, ppp))], 1, 'pptp@test');
  const noAddr = Buffer.concat([pppHeader(0x0021, false), inviteIp('pptp2@test')]);
  assertInvite([overGre(gre({ proto: 0x880b, version: 1, key: 9 }, noAddr))], 1, 'pptp2@test');
});

test('GRE with an unsupported protocol is counted as tunnel-unsupported', () => {
  const r = extractData([overGre(gre({ proto: 0x0806 }, Buffer.alloc(28)))]);
  assert.equal(r.drop('tunnel-unsupported'), 1);
});

test('VXLAN (UDP 4789 and 8472) carries an Ethernet frame', () => {
  const inner = udpFrame(A, B, 5060, 5060, sipInvite('vxlan@test'));
  for (const port of [4789, 8472]) {
    const p = assertInvite([udpFrame('203.0.113.1', '203.0.113.2', 49152, port, vxlan(5000, inner))], 1, 'vxlan@test');
    assert.deepEqual([p.meta.src, p.meta.dst], [A, B]);
  }
  const r = extractData([udpFrame('203.0.113.1', '203.0.113.2', 49152, 4789, vxlan(1, ethernetTagged([{ tpid: ETH_VLAN, vid: 9 }], ETH_IPV6, udpIp(A6, B6, 5060, 5060, sipInvite('vx6@test')))))]);
  assert.deepEqual(r.callIds, ['vx6@test']);
  assert.equal(r.counters.tunnels.get('vxlan'), 1);
});

test('GTP-U (UDP 2152): plain, with a sequence number, and with an extension header', () => {
  for (const o of [{}, { seq: 77 }, { ext: true }, { seq: 1, ext: true }]) {
    const p = assertInvite([udpFrame('203.0.113.1', '203.0.113.2', 2152, 2152, gtpu(0x1234, inviteIp('gtp@test'), o))], 1, 'gtp@test');
    assert.equal(p.meta.src, A, JSON.stringify(o));
  }
  const r = extractData([udpFrame('203.0.113.1', '203.0.113.2', 2152, 2152, gtpu(1, udpIp(A6, B6, 5060, 5060, sipInvite('gtp6@test')), { ext: true }))]);
  assert.deepEqual(r.callIds, ['gtp6@test']);
  assert.equal(r.counters.tunnels.get('gtp-u'), 1);
});

test('tunnels nest (VLAN → GRE → VXLAN → IP-in-IP), but not beyond the depth limit', () => {
  const inner = ipv4Packet({ src: '10.9.9.1', dst: '10.9.9.2', proto: PROTO_IPIP }, inviteIp('deep@test'));
  const vx = udpIp('10.1.1.1', '10.1.1.2', 40000, 4789, vxlan(7, ethIp(inner)));
  const outer = ethernetTagged([{ tpid: ETH_VLAN, vid: 4 }], ETH_IPV4, ipv4Packet({ src: '203.0.113.1', dst: '203.0.113.2', proto: PROTO_GRE }, gre({ proto: ETH_IPV4 }, vx)));
  assertInvite([outer], 1, 'deep@test');

  let pkt = inviteIp('too-deep@test');
  for (let i = 0; i < 10; i++) pkt = ipv4Packet({ src: '203.0.113.1', dst: '203.0.113.2', proto: PROTO_GRE }, gre({ proto: ETH_IPV4 }, pkt));
  const r = extractData([ethIp(pkt)]);
  assert.equal(r.packets.length, 0);
  assert.equal(r.drop('tunnel-unsupported'), 1);
});

// ---------------------------------------------------------------------------------------------
// SCTP, ICMP, HEP

test('SCTP: several DATA chunks in one packet are each a message; a SACK among them is skipped', () => {
  const chunks = [
    sctpSackChunk(10),
    sctpDataChunk(sipInvite('sctp-1@test'), 11, { ppid: 0 }),
    sctpDataChunk(sipOk('sctp-0@test'), 12, { stream: 1 }),
    sctpDataChunk(sipInvite('sctp-2@test', { body: 'v=0\r\n' }), 13, { idata: true }), // I-DATA
  ];
  const r = extractData([ethIp(ipv4Packet({ src: A, dst: B, proto: PROTO_SCTP }, sctpPacket(5060, 5061, chunks)))]);
  assert.deepEqual(r.labels, ['INVITE sctp-1@test', '200 sctp-0@test', 'INVITE sctp-2@test']);
  assert.ok(r.packets.every((p) => p.transport === 'SCTP' && p.meta.sport === 5060 && p.meta.dport === 5061));
  assert.equal(r.counters.sctp, 1);
  const v6 = extractData([ethIp(ipv6Packet(A6, B6, PROTO_SCTP, sctpPacket(5060, 5060, [sctpDataChunk(sipInvite('sctp6@test'), 1)])))]);
  assert.deepEqual(v6.callIds, ['sctp6@test']);
});

test('SCTP without DATA chunks (INIT, SACK, HEARTBEAT) is counted as sctp-not-data', () => {
  const r = extractData([
    ethIp(ipv4Packet({ src: A, dst: B, proto: PROTO_SCTP }, sctpPacket(5060, 5060, [sctpSackChunk(1)]))),
    ethIp(ipv4Packet({ src: A, dst: B, proto: PROTO_SCTP }, sctpPacket(5060, 5060, [Buffer.from([4, 0, 0, 8, 0, 1, 0, 4])]))),
  ]);
  assert.equal(r.packets.length, 0);
  assert.equal(r.drop('sctp-not-data'), 2);
});

test('ICMP port unreachable quoting a SIP INVITE is not a message (IPv4 and IPv6)', () => {
  const offending = inviteIp('icmp@test');
  const icmp = ipv4Packet({ src: B, dst: A, proto: PROTO_ICMP }, icmpError(3, 3, offending.subarray(0, Math.min(offending.length, 548))));
  const offending6 = udpIp(A6, B6, 5060, 5060, sipInvite('icmp6@test'));
  const icmp6 = ipv6Packet(B6, A6, PROTO_ICMPV6, icmpv6Error(offending6));
  const r = extractData([ethIp(icmp), ethIp(icmp6), ethIp(offending)]);
  assert.deepEqual(r.callIds, ['icmp@test'], 'only the real INVITE');
  assert.equal(r.drop('icmp'), 2);
});

const HEP_OUTER = { src: '203.0.113.5', dst: '203.0.113.9' };

function overHep(hep: Buffer, sport = 47000, dport = 9060): Buffer {
  return udpFrame(HEP_OUTER.src, HEP_OUTER.dst, sport, dport, hep);
}

test('HEP v2 (captagent/Kamailio layout): inner addresses, ports, transport and time are unwrapped', () => {
  const hep = hepV2({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5070, dport: 5080, proto: 6, tsSec: T0 - 100, tsUsec: 250_000, captureId: 99 }, sipInvite('hep2@test'));
  assert.equal(hep[1], 16, 'the length byte covers header and addresses only');
  const r = extractData([overHep(hep)]);
  const p = only(r.packets);
  assert.equal(p.msg.callId, 'hep2@test');
  assert.equal(p.transport, 'TCP');
  assert.deepEqual([p.meta.src, p.meta.dst, p.meta.sport, p.meta.dport, p.meta.family], ['10.0.0.1', '10.0.0.2', 5070, 5080, 4]);
  assert.deepEqual([p.meta.tsSec, p.meta.tsNsec], [T0 - 100, 250_000_000]);
  assert.ok(p.msg.raw.equals(sipInvite('hep2@test')), 'the payload starts after the time header');
  assert.equal(r.counters.hepPackets, 1);
});

test('HEP v2 over IPv6 and HEP v1 (no time header: the outer frame time is kept)', () => {
  const six = hepV2({ src: A6, dst: B6, sport: 5060, dport: 5062, tsSec: T0 - 5, tsUsec: 1 }, sipOk('hep2v6@test'));
  const p6 = only(extractData([overHep(six)]).packets);
  assert.deepEqual([p6.meta.src, p6.meta.dst, p6.meta.family, p6.meta.tsSec, p6.meta.tsNsec], [A6, B6, 6, T0 - 5, 1000]);
  assert.equal(p6.msg.status, 200);
  const v1 = hepV2({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5060 }, sipInvite('hep1@test'), 1);
  const p1 = only(extract(mkFrames([overHep(v1)], 1, { t0Sec: T0 + 1 })).packets);
  assert.deepEqual([p1.meta.src, p1.meta.tsSec, p1.transport], ['10.0.0.1', T0 + 1, 'UDP']);
  assert.equal(p1.msg.callId, 'hep1@test');
});

test('HEP v3: IPv4 and IPv6, UDP/TCP/SCTP, time from the chunks; any UDP port', () => {
  const v4 = hepV3({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5090, tsSec: T0 - 60, tsUsec: 999_999 }, sipInvite('hep3@test'));
  const v6 = hepV3({ src: A6, dst: B6, sport: 5061, dport: 5062, proto: 6, tsSec: T0 - 30, tsUsec: 5 }, sipOk('hep3v6@test'));
  const sctp = hepV3({ src: '10.0.0.3', dst: '10.0.0.4', sport: 5060, dport: 5060, proto: 132, tsSec: T0 }, sipInvite('hep3sctp@test'));
  const r = extractData([overHep(v4), overHep(v6, 40000, 40001), overHep(sctp)]);
  assert.deepEqual(r.callIds, ['hep3@test', 'hep3v6@test', 'hep3sctp@test']);
  const [a, b, c] = r.packets;
  assert.deepEqual([a!.meta.src, a!.meta.dst, a!.meta.sport, a!.meta.dport, a!.meta.tsSec, a!.meta.tsNsec, a!.transport], ['10.0.0.1', '10.0.0.2', 5060, 5090, T0 - 60, 999_999_000, 'UDP']);
  assert.deepEqual([b!.meta.src, b!.meta.family, b!.meta.tsSec, b!.meta.tsNsec, b!.transport], [A6, 6, T0 - 30, 5000, 'TCP']);
  assert.equal(c!.transport, 'SCTP');
  assert.equal(r.counters.hepPackets, 3);
});

test('HEP v3 cross-checked with hep-js: its packets decode alike, and it reads ours', () => {
  const msg = sipInvite('hepjs@test');
  const fields = { src: '10.1.2.3', dst: '10.4.5.6', sport: 5066, dport: 5077, tsSec: T0 - 7, tsUsec: 123_456, captureId: 2001 };
  const theirs = hepjs.encapsulate(msg.toString('latin1'), {
    protocolFamily: 2, protocol: 17, srcIp: fields.src, dstIp: fields.dst, srcPort: fields.sport, dstPort: fields.dport,
    timeSeconds: fields.tsSec, timeUseconds: fields.tsUsec, payloadType: 1, captureId: fields.captureId, hepNodeName: 'node-a',
  });
  const ours = hepV3(fields, msg);
  const r = extractData([overHep(theirs), overHep(ours)]);
  assert.equal(r.packets.length, 2);
  const [m0, m1] = r.packets.map((p) => ({ ...p.meta, frame: 0 }));
  assert.deepEqual(m0, m1, 'the outer frames differ; what HEP says is the same');
  assert.deepEqual([r.packets[0]!.meta.src, r.packets[0]!.meta.dst, r.packets[0]!.meta.sport, r.packets[0]!.meta.dport], [fields.src, fields.dst, fields.sport, fields.dport]);
  assert.deepEqual([r.packets[0]!.meta.tsSec, r.packets[0]!.meta.tsNsec], [T0 - 7, 123_456_000]);
  assert.ok(r.packets[0]!.msg.raw.equals(msg) && r.packets[1]!.msg.raw.equals(msg));
  const decoded = hepjs.decapsulate(ours);
  assert.ok(decoded, 'hep-js reads our HEP3 builder');
  assert.deepEqual(decoded.rcinfo, {
    protocolFamily: 2, protocol: 17, srcIp: fields.src, dstIp: fields.dst, srcPort: fields.sport, dstPort: fields.dport,
    timeSeconds: fields.tsSec, timeUseconds: fields.tsUsec, payloadType: 1, captureId: fields.captureId,
  });
  assert.equal(decoded.payload, msg.toString('latin1'));
});

test("HEP v3: a vendor's own chunk is not read as a generic one", () => {
  const vendorSrc = hepChunk(0x0003, 3, Buffer.from([6, 6, 6, 6])); // vendor 3's "type 3"
  const vendorPayload = hepChunk(0x0003, 15, Buffer.from('not the payload'));
  const hep = hepV3({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5060, after: [vendorSrc, vendorPayload] }, sipInvite('vendor@test'));
  const p = only(extractData([overHep(hep)]).packets);
  assert.equal(p.meta.src, '10.0.0.1');
  assert.equal(p.msg.callId, 'vendor@test');
});

test('HEP v3 damaged (chunk length past the end, no payload) is counted as hep-bad', () => {
  const good = hepV3({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5060 }, sipInvite('x@test'));
  const cut = Buffer.from(good);
  cut.writeUInt16BE(0xfff0, 6 + 4); // first chunk claims to be huge
  const noPayload = Buffer.concat([Buffer.from('HEP3'), Buffer.from([0, 16]), hepChunk(0, 1, Buffer.from([2])), Buffer.from([0, 0, 0])]);
  const r = extractData([overHep(cut), overHep(noPayload)]);
  assert.equal(r.packets.length, 0);
  assert.equal(r.drop('hep-bad'), 2);
});

test('HEP v3 over IPv6 outer transport', () => {
  const hep = hepV3({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5060, dport: 5060 }, sipInvite('hep-outer6@test'));
  const frame = ethIp(ipPacket('2001:db8::5', '2001:db8::9', PROTO_UDP, udpSegment('2001:db8::5', '2001:db8::9', 9060, 9060, hep)));
  assert.deepEqual(extractData([frame]).callIds, ['hep-outer6@test']);
});

test('TCP segments reach the TCP layer from every link type (raw IPv6 here)', () => {
  const seg = tcpSegment(A6, B6, 5060, 5060, { seq: 1, flags: 0x18 }, sipInvite('tcp6@test'));
  const r = extractData([ipPacket(A6, B6, 6, seg)], 101);
  assert.deepEqual(r.callIds, ['tcp6@test']);
  assert.equal(r.packets[0]!.transport, 'TCP');
  assert.equal(r.counters.tcp, 1);
});

// ---------------------------------------------------------------------------------------------
// WebSocket framing on its own

function wsEvents(): { events: WsEvents; messages: string[]; controls: number[]; errors: string[] } {
  const messages: string[] = [];
  const controls: number[] = [];
  const errors: string[] = [];
  return {
    messages,
    controls,
    errors,
    events: { message: (b) => messages.push(b.toString('latin1')), control: (op) => controls.push(op), error: (why) => errors.push(why) },
  };
}

test('WsFrameParser: all length forms, masked or not, fed one byte at a time', () => {
  const big = Buffer.alloc(70_000, 0x61);
  const stream = Buffer.concat([
    wsFrame(Buffer.from('short')),
    wsFrame(Buffer.from('short masked'), { mask: true }),
    wsFrame(Buffer.alloc(300, 0x62), { mask: Buffer.from([9, 8, 7, 6]) }),
    wsFrame(big),
    wsFrame(Buffer.from('tiny in 64'), { lengthForm: 64, mask: true }),
    wsFrame(Buffer.from('tiny in 16'), { lengthForm: 16 }),
    wsFrame(Buffer.alloc(0)),
  ]);
  for (const step of [1, 3, 1000, stream.length]) {
    const w = wsEvents();
    const parser = new WsFrameParser(w.events);
    for (let off = 0; off < stream.length; off += step) parser.push(stream.subarray(off, off + step));
    assert.deepEqual(w.messages, ['short', 'short masked', 'b'.repeat(300), 'a'.repeat(70_000), 'tiny in 64', 'tiny in 16', ''], `step ${step}`);
    assert.deepEqual(w.errors, []);
  }
});

test('WsFrameParser: fragmented message with control frames between fragments', () => {
  const w = wsEvents();
  const parser = new WsFrameParser(w.events);
  parser.push(Buffer.concat([
    wsFrame(Buffer.from('INVITE '), { fin: false, mask: true }),
    wsFrame(Buffer.from('ping'), { opcode: 9, mask: true }),
    wsFrame(Buffer.from('sip:a@b '), { fin: false, opcode: 0, mask: true }),
    wsFrame(Buffer.from(''), { opcode: 10 }),
    wsFrame(Buffer.from('SIP/2.0'), { opcode: 0, mask: true }),
    wsFrame(Buffer.from('binary'), { opcode: 2 }),
    wsFrame(Buffer.from([0x03, 0xe8]), { opcode: 8 }),
  ]));
  assert.deepEqual(w.messages, ['INVITE sip:a@b SIP/2.0', 'binary']);
  assert.deepEqual(w.controls, [9, 10, 8]);
});

test('WsFrameParser: a message is bounded (1 MiB) across its continuation frames too', () => {
  const piece = Buffer.alloc(60_000, 0x61);
  const w = wsEvents();
  const parser = new WsFrameParser(w.events);
  parser.push(wsFrame(piece, { fin: false }));
  for (let i = 0; i < 16; i++) parser.push(wsFrame(piece, { fin: false, opcode: 0 })); // 1 020 000 bytes so far
  assert.deepEqual(w.errors, []);
  parser.push(wsFrame(piece, { fin: false, opcode: 0 })); // 1 080 000 > 1 048 576
  parser.push(wsFrame(Buffer.from('end'), { opcode: 0 }));
  assert.equal(w.errors.length, 1);
  assert.deepEqual(w.messages, []);
  // Just under the bound is fine.
  const ok = wsEvents();
  const p2 = new WsFrameParser(ok.events);
  p2.push(wsFrame(piece, { fin: false }));
  p2.push(wsFrame(Buffer.alloc((1 << 20) - 60_000), { opcode: 0 }));
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.messages[0]!.length, 1 << 20);
});

test('WsFrameParser: reserved bits, reserved opcodes and oversized lengths stop the parser', () => {
  for (const bad of [
    wsFrame(Buffer.from('x'), { rsv: 4 }),
    wsFrame(Buffer.from('x'), { opcode: 3 }),
    wsFrame(Buffer.from('x'), { opcode: 11 }),
    Buffer.concat([Buffer.from([0x81, 127]), Buffer.from([0, 0, 0, 0, 0x7f, 0, 0, 0])]),
  ]) {
    const w = wsEvents();
    const parser = new WsFrameParser(w.events);
    parser.push(bad);
    parser.push(wsFrame(Buffer.from('after')));
    assert.equal(w.errors.length, 1);
    assert.deepEqual(w.messages, [], 'nothing is read after an error');
  }
});

test('Counters: link types, transports, methods and statuses read as counted one by one, past the short list too', () => {
  const c = new Counters();
  const keys = ['UDP', 'UDP', 'TCP', 'UDP', 'UDP', 'UDP', 'WS', 'TCP', 'TCP'];
  const expected = new Map<string, number>();
  keys.forEach((k, i) => {
    c.sipMessage(k, undefined, 200);
    c.linktype(i % 3 === 0 ? 1 : 113);
    expected.set(k, (expected.get(k) ?? 0) + 1);
    // Read mid-way: the run in hand is part of what is read, and counting goes on after.
    assert.equal(c.transports.get(k), expected.get(k));
  });
  assert.deepEqual([...c.transports].sort(), [...expected].sort());
  assert.deepEqual([...c.linktypes].sort(), [[1, 3], [113, 6]]);
  assert.deepEqual([...c.statuses], [[200, keys.length]]);
  // More distinct keys than the short list holds.
  const methods = new Map<string, number>();
  for (let i = 0; i < 1000; i++) {
    const m = `M${(i * 7) % 23}`;
    c.sipMessage('UDP', m, 0);
    methods.set(m, (methods.get(m) ?? 0) + 1);
  }
  assert.deepEqual([...c.methods].sort(), [...methods].sort());
  assert.equal(c.transports.get('UDP'), 1000 + keys.filter((k) => k === 'UDP').length);
});

test('u16be, u32be, u32le read what Buffer#readUInt16BE/readUInt32BE/readUInt32LE read', () => {
  const r = rng(20261128);
  const buf = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(r() * 256)));
  buf.set([0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0x80], 0);
  for (let o = 0; o + 4 <= buf.length; o++) {
    assert.equal(u16be(buf, o), buf.readUInt16BE(o));
    assert.equal(u32be(buf, o), buf.readUInt32BE(o));
    assert.equal(u32le(buf, o), buf.readUInt32LE(o));
  }
});
