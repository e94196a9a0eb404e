import type { promises as dns } from 'node:dns';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import type { SinkMx } from '../test/support/sink-mx.js';
import type { BenchMessage } from './bench-message.js';
import { runLoad } from './load-client.js';
import { submissionTarget, type MtaUnderTest } from './mta-under-test.js';

export interface DkimProbe {
  /** A recording MX for the probe's recipient domain. */
  sink: SinkMx;
  /** One message to that domain, From the signing domain. */
  message: BenchMessage;
  /** Resolves the published DKIM keys. */
  resolver: dns.Resolver;
  signingDomain: string;
  timeoutMs: number;
}

/**
 * Sends one message through the MTA to a recording MX and verifies its DKIM signature against the keys published in
 * DNS, so the report says whether delivered mail really is signed, not only whether signing was configured. Returns
 * the finding as one line.
 */
export async function checkDkim(mta: MtaUnderTest, probe: DkimProbe): Promise<string> {
  const before = probe.sink.messages.length;
  const load = await runLoad({ target: submissionTarget(mta), message: probe.message, messages: 1, connections: 1, newConnectionPerMessage: false });
  if (load.accepted !== 1) return `DKIM check: not possible, the probe message was not accepted (${[...load.failures.keys()].join('; ')})`;
  let raw: Buffer;
  try {
    raw = ((await probe.sink.waitForMessages(before + 1, probe.timeoutMs))[before] as { raw: Buffer }).raw;
  } catch {
    return `DKIM check: not possible, the probe message was not delivered within ${probe.timeoutMs / 1000} s`;
  }
  const { results } = await dkimVerify(raw, { resolver: (name, type) => probe.resolver.resolve(name, type) as Promise<string[][]> });
  const signatures = results.filter((result) => result.signingDomain);
  if (signatures.length === 0) return 'DKIM check: FAILED, the delivered probe message carries no DKIM-Signature';
  const passed = signatures.find((result) => result.signingDomain === probe.signingDomain && result.status.result === 'pass');
  if (passed) return `DKIM check: dkim=pass (d=${passed.signingDomain}, s=${passed.selector}) on the delivered probe message`;
  const outcomes = signatures.map((result) => `d=${result.signingDomain} ${result.status.result}${result.status.comment ? ` (${result.status.comment})` : ''}`);
  return `DKIM check: FAILED, no passing signature of ${probe.signingDomain}: ${outcomes.join(', ')}`;
}
