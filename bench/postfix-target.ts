import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { MtaUnderTest } from './mta-under-test.js';
import { startOpenDkim } from './opendkim-milter.js';
import { startPostfixSubmission } from './postfix-submission.js';
import { GroupMemorySampler, processTree } from './process-memory.js';

/** The reference: Postfix with OpenDKIM, set up as the project's notes describe, relaying to the same sink. */
export async function startPostfixTarget(
  workDir: string,
  relay: { host: string; port: number },
  /** Recipient domains routed elsewhere, with their next hop as [host]:port. */
  transports: Record<string, string>,
  dkim: { domain: string; selector: string },
): Promise<MtaUnderTest> {
  const user = 'bench';
  const password = randomBytes(18).toString('base64url');
  const milter = await startOpenDkim(dkim.domain, dkim.selector);
  const postfix = await startPostfixSubmission(join(workDir, 'postfix'), { relayHost: relay.host, relayPort: relay.port, transports, milter: `inet:127.0.0.1:${milter.port}`, user, password }).catch(
    async (error: unknown) => {
      await milter.stop();
      throw error;
    },
  );
  return {
    name: `Postfix ${postfix.version} + OpenDKIM ${milter.version}`,
    port: postfix.port,
    user,
    password,
    dkimRecords: [milter.dkimRecord],
    notes: ['DKIM: OpenDKIM milter, RSA-2048, relaxed/relaxed', 'peak RSS: the summed Pss of all its processes, OpenDKIM included'],
    watchMemory() {
      // Postfix forks a daemon per session and per delivery, so the group is listed again at every sample.
      const sampler = new GroupMemorySampler(() => [...processTree(postfix.masterPid), milter.pid]);
      return () => sampler.stop();
    },
    async stop() {
      await postfix.stop();
      await milter.stop();
    },
  };
}
