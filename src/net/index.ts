/** The network layer: link, IP (fragments), tunnels, UDP/TCP/SCTP, WebSocket framing and HEP. */
export { FrameDecoder } from './decoder.js';
export { TcpReassembler, type StreamSink, type StreamFactory } from './tcp.js';
export { WsFrameParser, type WsEvents } from './websocket.js';
export { Counters, bump, type DropReason } from './counters.js';
export { hostPort, type PacketMeta, type TcpSegment, type Transport, type TransportHandler } from './packet.js';
export { LINKTYPE_NAMES } from './link.js';
export { ipv4String, ipv6String } from './address.js';
export * as encode from './encode.js';
