/**
 * Remembers the SigV4 signatures the gateway has accepted, so a captured request cannot be sent again while its
 * signature would still be valid. Every process that serves the HTTP API must consult the same guard: on one node
 * the SQLite file in the data directory (sqlite-replay-guard.ts); in cluster mode a Redis implementation belongs
 * here too (`SET <prefix><signature> 1 NX PXAT <validUntil>` answers firstUse in one command), chosen where the
 * gateway opens its other cluster stores.
 */
export interface ReplayGuard {
  /**
   * True the first time a signature is presented (and remembers it until `validUntil`, epoch ms: the last moment the
   * signature could be accepted); false when it was seen before and may not be used again.
   */
  firstUse(signature: string, validUntil: number, now: number): Promise<boolean>;
  close(): void;
}
