import type { SessionTarget } from './smtp-client-session.js';

export interface DnsTxtRecord {
  name: string;
  value: string;
}

/** A running MTA the workload is sent through: STARTTLS submission ports on 127.0.0.1 with AUTH PLAIN. */
export interface MtaUnderTest {
  /** Name and version, as the result tables show it. */
  name: string;
  /** relaygate or Postfix: ratios are relaygate's figures over Postfix's. */
  kind: 'relaygate' | 'postfix';
  /** One port per node (a relaygate cluster has several); sessions take them in turn, a round robin in the client. */
  ports: number[];
  user: string;
  password: string;
  /** The DKIM public keys its signatures are checked against, to publish in DNS. */
  dkimRecords: DnsTxtRecord[];
  /** What a reader of the figures must know about this setup. */
  notes: string[];
  /** relaygate's metrics listeners (one per node) on 127.0.0.1; absent for Postfix. */
  metricsPorts?: number[];
  /** The processes whose trees do the relay's work; their CPU time and memory are the relay's. */
  processRoots(): number[];
  /** Idempotent, so a normal stop and the teardown after an error can both call it. */
  stop(): Promise<void>;
}

/** A reply that takes longer than this fails the session: far above any normal reply, so only a stuck MTA hits it. */
const REPLY_TIMEOUT_MS = 60_000;

export function submissionTargets(mta: MtaUnderTest): SessionTarget[] {
  return mta.ports.map((port) => ({ host: '127.0.0.1', port, user: mta.user, password: mta.password, replyTimeoutMs: REPLY_TIMEOUT_MS }));
}
