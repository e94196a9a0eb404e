import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { issueCredential } from '../../../src/auth/credential-issuer.js';
import { SecretBox } from '../../../src/auth/secret-box.js';
import { SigV4Verifier, type SigV4Result, type SignedRequest } from '../../../src/auth/sigv4-verifier.js';
import { SqliteReplayGuard } from '../../../src/auth/sqlite-replay-guard.js';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { tempDir } from '../../support/gateway-process.js';
import { presignUrl } from '../../support/sigv4-presign.js';

const REGION = 'us-east-1';
const ENDPOINT = 'http://127.0.0.1:8080';
const credentials = { accessKeyId: 'AKIAVERIFIERTEST0001', secretAccessKey: 'verifier-test-secret' };

/** The request a client would send for a presigned URL: its path and query, and the Host header it signed. */
const fromUrl = (url: string): SignedRequest => {
  const parsed = new URL(url);
  return { method: 'GET', url: `${parsed.pathname}${parsed.search}`, headers: { host: parsed.host }, body: async () => Buffer.alloc(0) };
};
const code = (result: SigV4Result) => (result.ok ? 'ok' : result.failure.code);

describe('SigV4Verifier: presigned URLs and replays', () => {
  const dir = tempDir();
  let store: SqliteControlStore;
  let guards: SqliteReplayGuard[];
  let verifier: SigV4Verifier;
  let otherProcess: SigV4Verifier;

  before(async () => {
    store = SqliteControlStore.open(dir);
    await store.accounts.create({ id: '444444444444', sandbox: false, sendingEnabled: true, maxSendRate: 10, max24HourSend: 100 });
    const box = SecretBox.open(join(dir, 'secret.key'));
    await issueCredential(store, { accountId: '444444444444', accessKeyId: credentials.accessKeyId, userName: 'presigner', region: REGION, smtpPassword: 'x', secret: { ...credentials, box } });
    // Two verifiers with their own guard on one file: two processes of the gateway.
    guards = [new SqliteReplayGuard(join(dir, 'replay-guard.db')), new SqliteReplayGuard(join(dir, 'replay-guard.db'))];
    verifier = new SigV4Verifier(store, box, REGION, guards[0]!);
    otherProcess = new SigV4Verifier(store, box, REGION, guards[1]!);
  });
  after(async () => {
    for (const guard of guards) guard.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a presigned URL is accepted once, whichever process sees it again', async () => {
    const url = await presignUrl({ endpoint: ENDPOINT, credentials, region: REGION, path: '/v2/email/account', expiresIn: 300 });
    assert.match(url, /[?&]X-Amz-Expires=300(&|$)/);
    const first = await verifier.verify(fromUrl(url));
    assert.equal(first.ok && first.credential.accessKeyId, credentials.accessKeyId);
    assert.deepEqual(await otherProcess.verify(fromUrl(url)), { ok: false, failure: { code: 'InvalidSignatureException', message: 'Signature has already been used: a request cannot be sent twice.' } });
    assert.equal(code(await verifier.verify(fromUrl(url))), 'InvalidSignatureException');
  });

  test('a presigned SES v1 query (GET /?Action=...) is accepted; a changed parameter is not', async () => {
    const url = await presignUrl({ endpoint: ENDPOINT, credentials, region: REGION, path: '/', query: { Action: 'GetSendQuota', Version: '2010-12-01' }, expiresIn: 60 });
    assert.equal(code(await verifier.verify(fromUrl(url.replace('GetSendQuota', 'ListIdentities')))), 'SignatureDoesNotMatch');
    assert.equal(code(await verifier.verify(fromUrl(url))), 'ok');
  });

  test('an expired presigned URL is refused with RequestExpired, one signed too far ahead with RequestTimeTooSkewed', async () => {
    const now = new Date();
    const expired = await presignUrl({ endpoint: ENDPOINT, credentials, region: REGION, path: '/v2/email/account', expiresIn: 60, signingDate: new Date(now.getTime() - 61_000) });
    const result = await verifier.verify(fromUrl(expired), now);
    assert.equal(code(result), 'RequestExpired');
    assert.match(result.ok ? '' : result.failure.message, /^Request has expired: signed at \d{8}T\d{6}Z for 60 seconds, it expired at \d{8}T\d{6}Z \(now \d{8}T\d{6}Z\)\.$/);
    // Still inside its window: a week-long URL signed yesterday.
    const long = await presignUrl({ endpoint: ENDPOINT, credentials, region: REGION, path: '/v2/email/account', expiresIn: 604_800, signingDate: new Date(now.getTime() - 86_400_000) });
    assert.equal(code(await verifier.verify(fromUrl(long), now)), 'ok');
    const ahead = await presignUrl({ endpoint: ENDPOINT, credentials, region: REGION, path: '/v2/email/account', expiresIn: 60, signingDate: new Date(now.getTime() + 16 * 60_000) });
    assert.equal(code(await verifier.verify(fromUrl(ahead), now)), 'RequestTimeTooSkewed');
  });

  test('presigned parameters that are missing or out of range are IncompleteSignature', async () => {
    const url = await presignUrl({ endpoint: ENDPOINT, credentials, region: REGION, path: '/v2/email/account', expiresIn: 60 });
    for (const broken of [url.replace('X-Amz-Expires=60', 'X-Amz-Expires=604801'), url.replace('X-Amz-Expires=60', 'X-Amz-Expires=0'), url.replace(/&?X-Amz-SignedHeaders=[^&]*/, ''), url.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1')]) {
      assert.equal(code(await verifier.verify(fromUrl(broken))), 'IncompleteSignature', broken);
    }
    assert.equal(code(await verifier.verify(fromUrl(url.replace(credentials.accessKeyId, 'AKIAUNKNOWNUNKNOWN00')))), 'InvalidClientTokenId');
  });

  test('SignedHeaders that repeat a name or are out of order are refused before any canonical request is made', async () => {
    const url = await presignUrl({ endpoint: ENDPOINT, credentials, region: REGION, path: '/v2/email/account', expiresIn: 60 });
    const repeated = 'host' + ';x-padding'.repeat(2700);
    for (const signed of ['host;host', 'x-a;host', repeated]) {
      const request = fromUrl(url.replace('X-Amz-SignedHeaders=host', `X-Amz-SignedHeaders=${encodeURIComponent(signed)}`));
      const result = await verifier.verify({ ...request, headers: { ...request.headers, 'x-a': 'a', 'x-padding': ' '.repeat(10_000) } });
      assert.deepEqual(result.ok ? 'ok' : result.failure, { code: 'SignatureDoesNotMatch', message: 'SignedHeaders must list the signed header names in sorted order, each once.' }, signed.slice(0, 20));
    }
  });
});
