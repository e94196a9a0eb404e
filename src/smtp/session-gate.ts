import type { AuthBlock, AuthBlockEntry, AuthThrottle } from './auth-throttle.js';

/** Why a connection was refused: the node's session limit, or the client address's. */
export type ConnectionRefusal = 'node' | 'address';

/**
 * What sessions share across the node, whichever process runs them: the open-connection counts behind
 * smtp.maxConnections and smtp.maxConnectionsPerAddress, and the AUTH failure throttle. With session workers the
 * primary process keeps the one LocalSessionGate and the workers ask it (app/workers), so a client cannot multiply
 * its allowance by landing on different workers; the AUTH blocks it sets are told to every worker, which checks them
 * before AUTH without asking.
 */
export interface SessionGate {
  /** Counts the connection and returns null, or returns why it is refused (and counts nothing). */
  admit(address: string): Promise<ConnectionRefusal | null>;
  /** Un-counts an admitted connection. */
  release(address: string): void;
  authBlocked(userName: string, address: string): Promise<AuthBlock | null>;
  /** Records a failed AUTH; returns how long to hold back the 535 and whether it blocked something. */
  authFailed(userName: string, address: string): Promise<{ delayMs: number; blocked: AuthBlock | null }>;
  authSucceeded(userName: string, address: string): void;
}

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

export class LocalSessionGate implements SessionGate {
  private open = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly blockListeners: Array<(entries: AuthBlockEntry[]) => void> = [];

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly throttle: AuthThrottle,
  ) {}

  /** Open connections over every listener and process. */
  get openConnections(): number {
    return this.open;
  }

  async admit(address: string): Promise<ConnectionRefusal | null> {
    if (this.open >= this.limits.maxConnections) return 'node';
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerAddress) return 'address';
    this.perAddress.set(address, fromAddress + 1);
    this.open++;
    return null;
  }

  release(address: string): void {
    const fromAddress = (this.perAddress.get(address) ?? 1) - 1;
    if (fromAddress > 0) this.perAddress.set(address, fromAddress);
    else this.perAddress.delete(address);
    this.open = Math.max(0, this.open - 1);
  }

  async authBlocked(userName: string, address: string): Promise<AuthBlock | null> {
    return this.throttle.blocked(userName, address);
  }

  async authFailed(userName: string, address: string): Promise<{ delayMs: number; blocked: AuthBlock | null }> {
    const result = this.throttle.recordFailure(userName, address);
    if (result.blocked) {
      const entries = this.throttle.blocksOf(userName, address);
      for (const listener of this.blockListeners) listener(entries);
    }
    return result;
  }

  /** Calls `listener` with the blocks in force for the user name and address of each failure that set a block. */
  onAuthBlocks(listener: (entries: AuthBlockEntry[]) => void): void {
    this.blockListeners.push(listener);
  }

  /** Every AUTH block in force. */
  authBlocksInForce(): AuthBlockEntry[] {
    return this.throttle.allBlocks();
  }

  authSucceeded(userName: string, address: string): void {
    this.throttle.recordSuccess(userName, address);
  }
}
