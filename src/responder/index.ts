/** The responder: a registrar and B2BUA for live testing, on the shared SIP core. */
export { SipServer, type ServerOptions, type LogEntry } from './server.js';
export { Recorder } from './recorder.js';
export { parseListen, type ListenSpec, type Peer } from './transport.js';
