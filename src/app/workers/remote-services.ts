import type { Acceptor } from '../../queue/message-acceptor.js';
import type { QueuedMessage } from '../../queue/queued-message.js';
import type { Spool, SpoolFile } from '../../queue/spool.js';
import type { AcquireRequest, AcquireResult, SendLimiter } from '../../ratelimit/send-limiter.js';
import { KnownAuthBlocks, type AuthBlock, type AuthBlockEntry } from '../../smtp/auth-throttle.js';
import type { ConnectionRefusal, SessionGate } from '../../smtp/session-gate.js';
import { TlsSessionCache, type TlsSessionStore } from '../../smtp/tls-session-cache.js';
import type { PrimaryChannel } from './primary-channel.js';

/** A session worker's view of the primary's LocalSessionGate; the AUTH blocks it checks from what the primary told it. */
export class RemoteSessionGate implements SessionGate {
  private readonly blocks = new KnownAuthBlocks();

  constructor(private readonly primary: PrimaryChannel) {}

  /** Blocks the primary set (its 'auth-blocks' messages). */
  learnBlocks(entries: readonly AuthBlockEntry[]): void {
    this.blocks.learn(entries);
  }

  admit(address: string): Promise<ConnectionRefusal | null> {
    return this.primary.call('gate.admit', address);
  }

  release(address: string): void {
    this.primary.tell('gate.release', address);
  }

  async authBlocked(userName: string, address: string): Promise<AuthBlock | null> {
    return this.blocks.blocked(userName, address);
  }

  authFailed(userName: string, address: string): Promise<{ delayMs: number; blocked: AuthBlock | null }> {
    return this.primary.call('gate.authFailed', userName, address);
  }

  authSucceeded(userName: string, address: string): void {
    this.primary.tell('gate.authSucceeded', userName, address);
  }
}

/** The worker fsyncs the body file it wrote; the primary commits the message in its group commit. */
export class RemoteAcceptor implements Acceptor {
  constructor(
    private readonly spool: Spool,
    private readonly primary: PrimaryChannel,
  ) {}

  async accept(message: QueuedMessage, file: SpoolFile | null): Promise<void> {
    if (file) await this.spool.sync(file);
    await this.primary.call('acceptor.commit', message, file?.directory ?? null);
  }
}

/** The node's send limiter, kept by the primary. */
export class RemoteSendLimiter implements SendLimiter {
  constructor(private readonly primary: PrimaryChannel) {}

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    return this.primary.call('limiter.acquire', request);
  }

  sentLast24Hours(key: string, now?: number): Promise<number> {
    return this.primary.call('limiter.sentLast24Hours', key, now);
  }

  async close(): Promise<void> {}
}

/**
 * The node's TLS 1.2 sessions as this worker knows them: each worker keeps every session made on the node, its own and
 * those the primary relays from the others, so a resumption is looked up here rather than with a trip to the primary
 * on every handshake (OpenSSL clients send a session id in every ClientHello, TLS 1.3 ones too, for middlebox
 * compatibility). A session relayed too late for a client's next connection, or made before a replacement worker
 * started, costs that client a full handshake.
 */
export class SharedTlsSessions implements TlsSessionStore {
  private readonly cache = new TlsSessionCache();

  constructor(private readonly share: (id: string, data: Uint8Array) => void) {}

  async store(id: string, data: Uint8Array): Promise<void> {
    await this.cache.store(id, data);
    this.share(id, data);
  }

  find(id: string): Promise<Uint8Array | null> {
    return this.cache.find(id);
  }

  /** A session another worker made. */
  learn(id: string, data: Uint8Array): Promise<void> {
    return this.cache.store(id, data);
  }
}
