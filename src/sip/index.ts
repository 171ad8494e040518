/** The SIP layer: start lines, framing, messages, headers; and the extractor that runs the pipeline up to here. */
export { SipMessage, type Malformation } from './message.js';
export { SipExtractor, type SipPacket, type SipPacketSink } from './extractor.js';
export { frameMessage, skipKeepAlives, FRAME_NOT_SIP, FRAME_PARTIAL, FRAME_OVERSIZE } from './framing.js';
export { startLineKind, findStartLine, LineKind } from './start-line.js';
export { splitList, parseParams, parseNameAddr, parseVia, parseCSeq, type NameAddr, type Via, type CSeq, type Params } from './headers.js';
export { canonicalName } from './header-names.js';
export { parseUri, uriAddress, uriEquals, uriUser, type Uri } from './uri.js';
export { splitBody, parseSdp, summarizeSdp, sdpCodecs, mediaType, type BodyPart, type MediaSummary } from './body.js';
export { sdpCodecsText } from './sdp-codecs.js';
export { parseAuthParams, parseChallenge, parseCredentials, type AuthParams, type Challenge, type Credentials } from './auth-params.js';
export { computeHa1, computeResponse, credentialsMatch, digestHash, isDigestAlgorithm, DIGEST_ALGORITHMS, type DigestAlgorithm, type DigestInput } from './digest.js';
export { transactionKey, TransactionKeyProbe, MAGIC_COOKIE } from './transaction-key.js';
export { buildResponse, serialize, newBranch, token, reasonPhrase, type HeaderList, type ResponseOptions } from './build.js';
export { DEFAULT_TIMERS, realClock, timerA, timerB, timerD, timerE, timerF, timerG, timerH, timerI, timerJ, timerK, timerL, type Clock, type TimerBase } from './timers.js';
