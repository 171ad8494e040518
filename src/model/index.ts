/** The dialog model: transactions, sessions and calls, digest checks, B2BUA legs, call records. */
export { Analyzer, type AnalyzerOptions, type SessionGroup } from './analyzer.js';
export { Session, type Observed, type SessionKind } from './session.js';
export { Transaction, packetTime } from './transaction.js';
export { AuthTracker, type AuthCheck, type AuthFinding, type AuthResult } from './auth.js';
export { Secrets } from './secrets.js';
export { LegCorrelator, DEFAULT_CORRELATION_HEADERS, type LegLink } from './legs.js';
export { isoMillis } from './iso-time.js';
export { buildRecord, RECORD_COLUMNS, type CallRecord, type CallStatus, type RecordColumn } from './record.js';
export { causeFromSipStatus, causeName, q850FromReason, CAUSE_NAMES } from './q850.js';
export { groupRecords } from './group-records.js';
