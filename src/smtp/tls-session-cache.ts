import type { EventEmitter } from 'node:events';
import { TLS_SESSION_LIFETIME_SECONDS } from './tls-material.js';

/** Sessions kept for session-id resumption; at a few hundred bytes each, a few megabytes at most. */
const MAX_SESSIONS = 10_000;

/**
 * Where TLS 1.2 sessions are kept for resumption by session id (ids in hex): every session the node made, so that a
 * client reconnecting to another session worker resumes too (each worker keeps them all, app/workers/remote-services.ts).
 */
export interface TlsSessionStore {
  store(id: string, data: Uint8Array): Promise<void>;
  find(id: string): Promise<Uint8Array | null>;
}

/** The node's cache: the most recent MAX_SESSIONS sessions, each for TLS_SESSION_LIFETIME_SECONDS. */
export class TlsSessionCache implements TlsSessionStore {
  /** In insertion order, so the first entry is the oldest. */
  private readonly sessions = new Map<string, { data: Uint8Array; expiresAt: number }>();

  async store(id: string, data: Uint8Array): Promise<void> {
    this.sessions.delete(id);
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(id, { data, expiresAt: Date.now() + TLS_SESSION_LIFETIME_SECONDS * 1000 });
  }

  async find(id: string): Promise<Uint8Array | null> {
    const session = this.sessions.get(id);
    if (!session) return null;
    if (session.expiresAt > Date.now()) return session.data;
    this.sessions.delete(id);
    return null;
  }
}

const TLS_1_3 = 0x0304;

/**
 * The protocol version in a DER-encoded OpenSSL SSL_SESSION, SEQUENCE { INTEGER 1, INTEGER ssl_version, ... } (0x0303 for
 * TLS 1.2, 0x0304 for TLS 1.3); null when the data is not laid out so.
 */
export function sessionProtocol(data: Buffer): number | null {
  if (data[0] !== 0x30 || data.length < 2) return null;
  // After the SEQUENCE's tag and length (short form, or long form with its count of length bytes).
  const formatVersion = 2 + (data[1]! & 0x80 ? data[1]! & 0x7f : 0);
  if (data[formatVersion] !== 0x02) return null;
  const protocol = formatVersion + 2 + (data[formatVersion + 1] ?? 0);
  const size = data[protocol + 1] ?? 0;
  if (data[protocol] !== 0x02 || size < 1 || size > 4 || protocol + 2 + size > data.length) return null;
  return data.readUIntBE(protocol + 2, size);
}

/**
 * Lets TLS 1.2 clients resume by session id on `server`: a tls.Server, or the net.Server under smtp-server, whose
 * TLS sockets (STARTTLS and TLS-wrapper alike) name it as their server and so raise these events on it. Node turns
 * OpenSSL's own session cache off and asks the server through these events instead. The handshake waits until the
 * session is stored, so the client's next connection finds it whichever process takes it. A store that cannot be
 * reached costs the client a full handshake, nothing more.
 */
export function resumeTlsSessions(server: EventEmitter, sessions: TlsSessionStore): void {
  server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
    // OpenSSL reports every TLS 1.3 ticket here too, under a dummy id no client will ever send: TLS 1.3 resumes by ticket only.
    if (sessionProtocol(data) === TLS_1_3) return done();
    sessions.store(id.toString('hex'), data).then(done, done);
  });
  server.on('resumeSession', (id: Buffer, done: (error: Error | null, data: Buffer | null) => void) => {
    sessions.find(id.toString('hex')).then(
      (data) => done(null, data ? Buffer.from(data) : null),
      () => done(null, null),
    );
  });
}
