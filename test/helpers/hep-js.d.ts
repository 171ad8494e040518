/** The few parts of the CommonJS `hep-js` package (HEP3 encoder/decoder) that tests use. */
declare module 'hep-js' {
  export interface HepRcinfo {
    protocolFamily: number;
    protocol: number;
    srcIp: string;
    dstIp: string;
    srcPort: number;
    dstPort: number;
    timeSeconds: number;
    timeUseconds: number;
    payloadType: number;
    captureId: number;
    hepNodeName?: string;
    capturePass?: string;
    correlation_id?: string;
  }
  export interface HepDecoded {
    rcinfo: Partial<HepRcinfo>;
    payload?: string;
  }
  interface HepJs {
    /** Builds a HEP3 packet around `payload` (written as a string). */
    encapsulate(payload: string, rcinfo: HepRcinfo): Buffer;
    /** Parses a HEP3 packet; false (or undefined) when it cannot. */
    decapsulate(packet: Buffer): HepDecoded | false | undefined;
  }
  const hep: HepJs;
  export default hep;
}
