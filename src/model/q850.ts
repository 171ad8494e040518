/**
 * Hangup causes named as FreeSWITCH names them (switch_types.h), with their ITU-T Q.850 values.
 * ORIGINATOR_CANCEL (487) is FreeSWITCH's own, not a Q.850 cause.
 */
export const CAUSE_NAMES: Record<number, string> = {
  1: 'UNALLOCATED_NUMBER',
  2: 'NO_ROUTE_TRANSIT_NET',
  3: 'NO_ROUTE_DESTINATION',
  6: 'CHANNEL_UNACCEPTABLE',
  7: 'CALL_AWARDED_DELIVERED',
  16: 'NORMAL_CLEARING',
  17: 'USER_BUSY',
  18: 'NO_USER_RESPONSE',
  19: 'NO_ANSWER',
  20: 'SUBSCRIBER_ABSENT',
  21: 'CALL_REJECTED',
  22: 'NUMBER_CHANGED',
  23: 'REDIRECTION_TO_NEW_DESTINATION',
  25: 'EXCHANGE_ROUTING_ERROR',
  27: 'DESTINATION_OUT_OF_ORDER',
  28: 'INVALID_NUMBER_FORMAT',
  29: 'FACILITY_REJECTED',
  30: 'RESPONSE_TO_STATUS_ENQUIRY',
  31: 'NORMAL_UNSPECIFIED',
  34: 'NORMAL_CIRCUIT_CONGESTION',
  38: 'NETWORK_OUT_OF_ORDER',
  41: 'NORMAL_TEMPORARY_FAILURE',
  42: 'SWITCH_CONGESTION',
  43: 'ACCESS_INFO_DISCARDED',
  44: 'REQUESTED_CHAN_UNAVAIL',
  45: 'PRE_EMPTED',
  50: 'FACILITY_NOT_SUBSCRIBED',
  52: 'OUTGOING_CALL_BARRED',
  54: 'INCOMING_CALL_BARRED',
  57: 'BEARERCAPABILITY_NOTAUTH',
  58: 'BEARERCAPABILITY_NOTAVAIL',
  63: 'SERVICE_UNAVAILABLE',
  65: 'BEARERCAPABILITY_NOTIMPL',
  66: 'CHAN_NOT_IMPLEMENTED',
  69: 'FACILITY_NOT_IMPLEMENTED',
  79: 'SERVICE_NOT_IMPLEMENTED',
  81: 'INVALID_CALL_REFERENCE',
  88: 'INCOMPATIBLE_DESTINATION',
  95: 'INVALID_MSG_UNSPECIFIED',
  96: 'MANDATORY_IE_MISSING',
  97: 'MESSAGE_TYPE_NONEXIST',
  98: 'WRONG_MESSAGE',
  99: 'IE_NONEXIST',
  100: 'INVALID_IE_CONTENTS',
  101: 'WRONG_CALL_STATE',
  102: 'RECOVERY_ON_TIMER_EXPIRE',
  103: 'MANDATORY_IE_LENGTH_ERROR',
  111: 'PROTOCOL_ERROR',
  127: 'INTERWORKING',
  487: 'ORIGINATOR_CANCEL',
};

export const NORMAL_CLEARING = 16;
export const ORIGINATOR_CANCEL = 487;

/**
 * SIP final response → cause, as FreeSWITCH maps them (sofia_glue_sip_cause_to_freeswitch,
 * which follows RFC 4497 §8.4.4 and RFC 3398 §8.2.6.1).
 */
export function causeFromSipStatus(status: number): number {
  switch (status) {
    case 200:
      return 16;
    case 401: case 402: case 403: case 407: case 603:
      return 21;
    case 404:
      return 1;
    case 485: case 604:
      return 3;
    case 408: case 504:
      return 102;
    case 410:
      return 22;
    case 413: case 414: case 416: case 420: case 421: case 423: case 505: case 513:
      return 127;
    case 480:
      return 18;
    case 400: case 481: case 500: case 503:
      return 41;
    case 486: case 600:
      return 17;
    case 484:
      return 28;
    case 488: case 606:
      return 88;
    case 502:
      return 38;
    case 405:
      return 63;
    case 406: case 415: case 501:
      return 79;
    case 482: case 483:
      return 25;
    case 487:
      return 487;
    default:
      return 31;
  }
}

export function causeName(cause: number): string {
  return CAUSE_NAMES[cause] ?? `CAUSE_${cause}`;
}

/** The Q.850 cause of a Reason header value (RFC 3326): `Q.850;cause=16;text="NORMAL_CLEARING"`. */
export function q850FromReason(values: string[]): number | undefined {
  for (const v of values) {
    for (const part of v.split(/,(?=\s*[A-Za-z.0-9-]+\s*;)/)) {
      const m = /^\s*Q\.850\s*;(.*)$/i.exec(part);
      if (!m) continue;
      const c = /(?:^|;)\s*cause\s*=\s*(\d+)/i.exec(m[1]!);
      if (c) return Number(c[1]);
    }
  }
  return undefined;
}
