import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import dns2, { Packet, type DnsHandler, type Resource, type UDPServer } from 'dns2';

export interface MxRecord {
  /** '.' (or '') for a null MX (RFC 7505). */
  exchange: string;
  priority: number;
}

/** A string is split into ≤255-byte character-strings; an array gives the character-strings exactly. */
export type TxtRecord = string | string[];

export interface RecordSets {
  A: string[];
  AAAA: string[];
  MX: MxRecord[];
  TXT: TxtRecord[];
  CNAME: string;
}

export type RecordType = keyof RecordSets;
export type ZoneEntry = Partial<RecordSets>;
/** Names are case-insensitive, a trailing dot is ignored. */
export type Zone = Record<string, ZoneEntry>;

/** SERVFAIL and REFUSED are answered; TIMEOUT means the query is never answered. */
export type DnsFailure = 'SERVFAIL' | 'REFUSED' | 'TIMEOUT';

export interface TestDnsServer {
  /** '127.0.0.1:PORT', ready for `Resolver#setServers`. */
  readonly address: string;
  readonly port: number;
  setRecords<T extends RecordType>(name: string, type: T, records: RecordSets[T]): void;
  setZone(zone: Zone): void;
  /** Make every query for `name` fail; null heals it. */
  failWith(name: string, failure: DnsFailure | null): void;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const TTL_SECONDS = 60;
const MAX_CNAME_HOPS = 8;
const TXT_CHUNK_BYTES = 255;

/**
 * An authoritative-only DNS server for tests, on UDP and TCP (c-ares retries large answers over TCP) at the same
 * free port of 127.0.0.1. A name absent from the zone answers NXDOMAIN; a known name without the asked type answers
 * NOERROR with no records (Node reports ENODATA). CNAMEs are followed inside the zone.
 */
export async function startDnsServer(zone: Zone = {}): Promise<TestDnsServer> {
  const entries = new Map<string, ZoneEntry>();
  const failures = new Map<string, DnsFailure>();
  const setZone = (next: Zone): void => {
    entries.clear();
    for (const [name, entry] of Object.entries(next)) entries.set(canonicalName(name), { ...entry });
  };
  setZone(zone);

  const handle: DnsHandler = (request, send) => {
    const response = answer(request, entries, failures);
    // dns2's TCP send returns nothing despite its typing, hence Promise.resolve. A failed send (client gone, server
    // closed) has nobody to be reported to.
    if (response) Promise.resolve(send(response)).catch(() => undefined);
  };
  const { udp, tcp, port } = await listenOnSharedPort(handle);
  const tcpSockets = new Set<Socket>();
  tcp.on('connection', (socket: Socket) => {
    tcpSockets.add(socket);
    socket.once('close', () => tcpSockets.delete(socket));
  });

  return {
    address: `${HOST}:${port}`,
    port,
    setRecords(name, type, records) {
      const key = canonicalName(name);
      entries.set(key, { ...entries.get(key), [type]: records });
    },
    setZone,
    failWith(name, failure) {
      if (failure) failures.set(canonicalName(name), failure);
      else failures.delete(canonicalName(name));
    },
    async close() {
      const tcpClosed = new Promise((resolve) => tcp.close(resolve));
      // dns2 keeps idle TCP connections open for 10 s; they would hold the server (and the test process) open.
      for (const socket of tcpSockets) socket.destroy();
      await Promise.all([tcpClosed, new Promise((resolve) => udp.close(() => resolve(undefined)))]);
    },
  };
}

function answer(request: Packet, entries: Map<string, ZoneEntry>, failures: Map<string, DnsFailure>): Packet | null {
  const response = Packet.createResponseFromRequest(request);
  response.header.aa = 1;
  const question = request.questions[0];
  if (!question) return response;

  let name = canonicalName(question.name);
  for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
    const failure = failures.get(name);
    if (failure === 'TIMEOUT') return null;
    if (failure) {
      response.header.rcode = failure === 'SERVFAIL' ? RCODE.SERVFAIL : RCODE.REFUSED;
      return response;
    }
    const entry = entries.get(name);
    if (!entry) {
      response.header.rcode = RCODE.NXDOMAIN;
      return response;
    }
    // Answers carry the owner name as asked (case and all) for the first hop, the target name after a CNAME.
    const owner = hop === 0 ? question.name : name;
    if (entry.CNAME !== undefined && question.type !== Packet.TYPE.CNAME) {
      response.answers.push(resource(owner, Packet.TYPE.CNAME, { domain: entry.CNAME }));
      name = canonicalName(entry.CNAME);
      continue;
    }
    response.answers.push(...recordsOf(entry, question.type).map((data) => resource(owner, question.type, data)));
    return response;
  }
  response.header.rcode = RCODE.SERVFAIL;
  return response;
}

function recordsOf(entry: ZoneEntry, type: number): Array<Partial<Resource>> {
  switch (type) {
    case Packet.TYPE.A:
      return (entry.A ?? []).map((address) => ({ address }));
    case Packet.TYPE.AAAA:
      return (entry.AAAA ?? []).map((address) => ({ address }));
    case Packet.TYPE.MX:
      return (entry.MX ?? []).map(({ exchange, priority }) => ({ exchange, priority }));
    case Packet.TYPE.TXT:
      // dns2 encodes Buffer character-strings as they are, though its typing only admits strings.
      return (entry.TXT ?? []).map((record) => ({ data: characterStrings(record) as unknown as string[] }));
    case Packet.TYPE.CNAME:
      return entry.CNAME === undefined ? [] : [{ domain: entry.CNAME }];
    default:
      return [];
  }
}

/** dns2 writes each string with a one-byte length and does not split long ones, so split at 255 bytes here. */
function characterStrings(record: TxtRecord): Buffer[] {
  if (Array.isArray(record)) return record.map((text) => Buffer.from(text));
  const bytes = Buffer.from(record);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += TXT_CHUNK_BYTES) {
    chunks.push(bytes.subarray(offset, offset + TXT_CHUNK_BYTES));
  }
  return chunks.length ? chunks : [Buffer.alloc(0)];
}

function resource(name: string, type: number, data: Partial<Resource>): Resource {
  return { name, type, class: Packet.CLASS.IN, ttl: TTL_SECONDS, ...data } as Resource;
}

function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** dns2's typings lack Packet.RCODE. */
const RCODE = { SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

const PORT_ATTEMPTS = 20;

/** TCP takes a free port first; UDP then binds the same number, which another process may hold, hence the retries. */
async function listenOnSharedPort(
  handle: DnsHandler,
): Promise<{ udp: UDPServer; tcp: NetServer; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const tcp = dns2.createTCPServer(handle);
    tcp.on('requestError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(0, HOST, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    const { port } = tcp.address() as AddressInfo;
    const udp = dns2.createUDPServer(handle);
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, HOST, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      udp.on('error', () => undefined);
      return { udp, tcp, port };
    } catch (error) {
      await new Promise((resolve) => tcp.close(resolve));
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}
