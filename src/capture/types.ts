/**
 * What the capture layer hands to the network layer: one link-layer frame with its capture time.
 * `data` is a view into the reader's buffer; it is only valid until the callback returns, so a
 * stage that keeps bytes (TCP reassembly, fragments) must copy them.
 */
export interface Frame {
  /** Seconds since the Unix epoch (integer part). */
  tsSec: number;
  /** Nanoseconds within the second (0..999 999 999). */
  tsNsec: number;
  /** LINKTYPE_* value (https://www.tcpdump.org/linktypes.html). */
  linktype: number;
  /** Captured bytes (possibly shorter than origLen when snaplen cut it). */
  data: Buffer;
  /** Length of the packet on the wire. */
  origLen: number;
  /** 1-based frame number in the capture, as Wireshark counts. */
  index: number;
  /** Byte offset of the record in the (decompressed) capture stream, -1 for live frames. */
  offset: number;
}

/** Something wrong with the capture file itself; reading goes on where it can. */
export interface CaptureWarning {
  code: 'truncated-record' | 'truncated-header' | 'bad-block' | 'unknown-interface' | 'bad-record-length';
  message: string;
  offset: number;
}

export type FrameSink = (frame: Frame) => void;
