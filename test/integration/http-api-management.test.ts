import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import {
  CreateConfigurationSetCommand,
  CreateConfigurationSetEventDestinationCommand,
  CreateEmailIdentityCommand,
  CreateEmailIdentityPolicyCommand,
  DeleteConfigurationSetEventDestinationCommand,
  DeleteEmailIdentityPolicyCommand,
  GetAccountCommand,
  GetConfigurationSetCommand,
  GetConfigurationSetEventDestinationsCommand,
  GetEmailIdentityCommand,
  GetEmailIdentityPoliciesCommand,
  PutConfigurationSetDeliveryOptionsCommand,
  PutConfigurationSetReputationOptionsCommand,
  PutConfigurationSetSendingOptionsCommand,
  PutConfigurationSetSuppressionOptionsCommand,
  SendEmailCommand,
  SESv2Client,
  UpdateConfigurationSetEventDestinationCommand,
  UpdateEmailIdentityPolicyCommand,
  type SendEmailCommandInput,
} from '@aws-sdk/client-sesv2';
import { GetSendQuotaCommand, SESClient } from '@aws-sdk/client-ses';
import { run } from '../support/external-tools.js';
import { sdkRejection } from '../support/sdk-rejection.js';
import { RELAYGATE_BIN, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { presignUrl } from '../support/sigv4-presign.js';
import { SnsReceiver } from '../support/sns-receiver.js';

const ACCOUNT = '333333333333';
const PARTNER = '555555555555';
const REGION = 'us-east-1';
/** The topic the operator registers in http.snsTopics for the test's webhook. */
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:ses-events`;

type Keys = { accessKeyId: string; secretAccessKey: string };

/** Management through SES's API: event destinations, configuration set options, identity policies, IAM checks, presigned URLs, replays. */
describe('the SES HTTP API: management calls', () => {
  const receiver = new SnsReceiver();
  let gateway: GatewayProcess;
  let endpoint: string;
  let admin: Keys;
  let sender: Keys;
  let partner: Keys;
  const httpConfig = () => ({ listeners: ['127.0.0.1:0=http'], metricsListen: null, snsTopics: { [TOPIC_ARN]: receiver.url('/ses-events') } });

  const cli = async (...args: string[]) => {
    const result = await run(process.execPath, [RELAYGATE_BIN, '--data-dir', gateway.dataDir, '--config', join(gateway.dataDir, 'relaygate.yaml'), ...args]);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const credential = async (account: string, userName: string, ...extra: string[]): Promise<Keys> => {
    const created = JSON.parse(await cli('credentials', 'create', '--account', account, '--user-name', userName, ...extra, '--json')) as { AccessKeyId: string; SecretAccessKey: string };
    return { accessKeyId: created.AccessKeyId, secretAccessKey: created.SecretAccessKey };
  };
  const v2 = (keys: Keys = admin, target = endpoint) => new SESv2Client({ region: REGION, endpoint: target, credentials: keys, maxAttempts: 1 });
  const v1 = (keys: Keys) => new SESClient({ region: REGION, endpoint, credentials: keys, maxAttempts: 1 });

  const simple = (extra: Partial<SendEmailCommandInput> = {}): SendEmailCommandInput => ({
    FromEmailAddress: 'news@api.test',
    Destination: { ToAddresses: ['someone@inbox.test'] },
    Content: { Simple: { Subject: { Data: 'Hello' }, Body: { Text: { Data: 'body' } } } },
    ...extra,
  });

  before(async () => {
    await receiver.start();
    gateway = await startGatewayProcess({ config: { smtp: { hostname: 'relay.test' }, events: { pollMs: 100 }, http: httpConfig() }, listen: ['127.0.0.1:0=tls'] });
    endpoint = `http://127.0.0.1:${gateway.httpPorts[0]}`;
    for (const account of [ACCOUNT, PARTNER]) {
      await cli('account', 'create', '--id', account);
      await cli('account', 'update', account, '--sandbox', 'false');
    }
    admin = await credential(ACCOUNT, 'admin', '--policy', 'full-access');
    sender = await credential(ACCOUNT, 'sender');
    partner = await credential(PARTNER, 'partner');
    await cli('identity', 'create', 'api.test', '--account', ACCOUNT, '--verified');
    await v2().send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'Api-Events' }));
  });
  after(async () => {
    await gateway.stop();
    await receiver.stop();
  });

  test('event destinations: create (a registered topic ARN, an https URL), get, update and delete, with SES errors', async () => {
    await v2().send(
      new CreateConfigurationSetEventDestinationCommand({
        ConfigurationSetName: 'Api-Events',
        EventDestinationName: 'to-topic',
        EventDestination: { Enabled: true, MatchingEventTypes: ['SEND', 'DELIVERY'], SnsDestination: { TopicArn: TOPIC_ARN } },
      }),
    );
    // Without Enabled a destination is disabled, as in SES.
    await v2().send(
      new CreateConfigurationSetEventDestinationCommand({
        ConfigurationSetName: 'Api-Events',
        EventDestinationName: 'to-webhook',
        EventDestination: { MatchingEventTypes: ['BOUNCE'], SnsDestination: { TopicArn: 'https://hooks.example.test/ses?token=abc' } },
      }),
    );
    const listed = await v2().send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'Api-Events' }));
    assert.deepEqual(listed.EventDestinations, [
      { Name: 'to-topic', Enabled: true, MatchingEventTypes: ['SEND', 'DELIVERY'], SnsDestination: { TopicArn: TOPIC_ARN } },
      { Name: 'to-webhook', Enabled: false, MatchingEventTypes: ['BOUNCE'], SnsDestination: { TopicArn: 'https://hooks.example.test/ses?token=abc' } },
    ]);
    // The registered topic stands for the operator's target.
    const shown = JSON.parse(await cli('configset', 'show', 'Api-Events', '--account', ACCOUNT, '--json')) as { EventDestinations: Array<{ Name: string; Target: string }> };
    assert.equal(shown.EventDestinations.find((destination) => destination.Name === 'to-topic')?.Target, receiver.url('/ses-events'));

    await v2().send(
      new UpdateConfigurationSetEventDestinationCommand({
        ConfigurationSetName: 'Api-Events',
        EventDestinationName: 'to-webhook',
        EventDestination: { Enabled: true, MatchingEventTypes: ['BOUNCE', 'COMPLAINT'] },
      }),
    );
    const updated = await v2().send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'Api-Events' }));
    assert.deepEqual(updated.EventDestinations?.[1], { Name: 'to-webhook', Enabled: true, MatchingEventTypes: ['BOUNCE', 'COMPLAINT'], SnsDestination: { TopicArn: 'https://hooks.example.test/ses?token=abc' } });
    await v2().send(new DeleteConfigurationSetEventDestinationCommand({ ConfigurationSetName: 'Api-Events', EventDestinationName: 'to-webhook' }));
    assert.deepEqual((await v2().send(new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: 'Api-Events' }))).EventDestinations?.map((destination) => destination.Name), ['to-topic']);

    const create = (name: string, definition: Record<string, unknown>, set = 'Api-Events') =>
      sdkRejection(v2().send(new CreateConfigurationSetEventDestinationCommand({ ConfigurationSetName: set, EventDestinationName: name, EventDestination: { Enabled: true, MatchingEventTypes: ['SEND'], ...definition } })));
    assert.deepEqual(await create('cw', { CloudWatchDestination: { DimensionConfigurations: [{ DimensionName: 'd', DimensionValueSource: 'MESSAGE_TAG', DefaultDimensionValue: 'x' }] } }), {
      name: 'BadRequestException',
      status: 400,
      message:
        'CloudWatchDestination is not supported by this gateway, which publishes events to webhooks, files, AMQP and Redis streams: give SnsDestination.TopicArn as an https:// webhook URL, or as a topic ARN the operator listed in http.snsTopics.',
    });
    const unknownTopic = await create('sns', { SnsDestination: { TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:unregistered` } });
    assert.deepEqual([unknownTopic.name, unknownTopic.status], ['BadRequestException', 400]);
    assert.match(unknownTopic.message, /^SNS topic arn:aws:sns:us-east-1:333333333333:unregistered is not known to this gateway: /);
    // Files, brokers and plain HTTP are the operator's to hand out (http.snsTopics), never an API caller's.
    for (const target of ['file:/tmp/events.jsonl', 'http://127.0.0.1:6379/', 'redis://127.0.0.1:6379/0?stream=events']) {
      const refused = await create('direct', { SnsDestination: { TopicArn: target } });
      assert.deepEqual([refused.name, refused.status], ['BadRequestException', 400], target);
    }
    assert.deepEqual(await create('to-topic', { SnsDestination: { TopicArn: TOPIC_ARN } }), { name: 'AlreadyExistsException', status: 400, message: 'Event destination to-topic already exists in configuration set <Api-Events>.' });
    assert.deepEqual((await create('x', { SnsDestination: { TopicArn: TOPIC_ARN } }, 'NoSuchSet')).name, 'NotFoundException');
    assert.deepEqual((await create('x', { SnsDestination: { TopicArn: TOPIC_ARN }, MatchingEventTypes: ['OPENED'] })).message, 'Invalid MatchingEventTypes: OPENED; use SEND, REJECT, BOUNCE, COMPLAINT, DELIVERY, OPEN, CLICK, RENDERING_FAILURE, DELIVERY_DELAY, SUBSCRIPTION');
    const gone = await sdkRejection(v2().send(new DeleteConfigurationSetEventDestinationCommand({ ConfigurationSetName: 'Api-Events', EventDestinationName: 'to-webhook' })));
    assert.deepEqual([gone.name, gone.status], ['NotFoundException', 404]);
  });

  test('a destination created through the API gets the Send events of messages sent with its configuration set', async () => {
    const { MessageId } = await v2().send(new SendEmailCommand(simple({ ConfigurationSetName: 'Api-Events' })));
    await receiver.waitFor((received) => received.some((entry) => (entry.message as { mail?: { messageId?: string } }).mail?.messageId === MessageId));
    const record = receiver.received.find((entry) => (entry.message as { mail?: { messageId?: string } }).mail?.messageId === MessageId)!;
    assert.equal(record.path, '/ses-events');
    assert.equal((record.message as { eventType: string }).eventType, 'Send');
  });

  test('configuration set options: sending, suppression, delivery and reputation', async () => {
    await v2().send(new CreateConfigurationSetCommand({ ConfigurationSetName: 'Options' }));
    await v2().send(new PutConfigurationSetSendingOptionsCommand({ ConfigurationSetName: 'Options', SendingEnabled: false }));
    const paused = await sdkRejection(v2().send(new SendEmailCommand(simple({ ConfigurationSetName: 'Options' }))));
    assert.deepEqual([paused.name, paused.status], ['SendingPausedException', 400]);
    await v2().send(new PutConfigurationSetSendingOptionsCommand({ ConfigurationSetName: 'Options', SendingEnabled: true }));
    await v2().send(new PutConfigurationSetSuppressionOptionsCommand({ ConfigurationSetName: 'Options', SuppressedReasons: ['BOUNCE'] }));
    await v2().send(new PutConfigurationSetDeliveryOptionsCommand({ ConfigurationSetName: 'Options', TlsPolicy: 'REQUIRE' }));
    await v2().send(new PutConfigurationSetReputationOptionsCommand({ ConfigurationSetName: 'Options', ReputationMetricsEnabled: false }));
    const set = await v2().send(new GetConfigurationSetCommand({ ConfigurationSetName: 'Options' }));
    assert.deepEqual(
      { delivery: set.DeliveryOptions, sending: set.SendingOptions, suppression: set.SuppressionOptions, reputation: set.ReputationOptions },
      { delivery: { TlsPolicy: 'REQUIRE' }, sending: { SendingEnabled: true }, suppression: { SuppressedReasons: ['BOUNCE'] }, reputation: { ReputationMetricsEnabled: false } },
    );
    assert.match((await v2().send(new SendEmailCommand(simple({ ConfigurationSetName: 'Options' })))).MessageId!, /-000000$/);
    const pool = await sdkRejection(v2().send(new PutConfigurationSetDeliveryOptionsCommand({ ConfigurationSetName: 'Options', SendingPoolName: 'no-such-pool' })));
    assert.deepEqual(pool, { name: 'NotFoundException', status: 404, message: 'Dedicated IP pool no-such-pool does not exist.' });
    const reputation = await sdkRejection(v2().send(new PutConfigurationSetReputationOptionsCommand({ ConfigurationSetName: 'Options', ReputationMetricsEnabled: true })));
    assert.deepEqual([reputation.name, reputation.status], ['BadRequestException', 400]);
    const missing = await sdkRejection(v2().send(new PutConfigurationSetSendingOptionsCommand({ ConfigurationSetName: 'Missing', SendingEnabled: true })));
    assert.deepEqual(missing, { name: 'NotFoundException', status: 404, message: 'Configuration set <Missing> does not exist.' });
  });

  test('identity policies: create, get, update, delete; the send path uses them for sending authorization', async () => {
    const identityArn = `arn:aws:ses:${REGION}:${ACCOUNT}:identity/api.test`;
    const allow = (principal: string) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'ses:SendRawEmail', Resource: identityArn }] });
    const partnerSend = () => v2(partner).send(new SendEmailCommand(simple({ FromEmailAddressIdentityArn: identityArn })));
    const refusedBefore = await sdkRejection(partnerSend());
    assert.deepEqual([refusedBefore.name, refusedBefore.status], ['AccessDeniedException', 403]);

    await v2().send(new CreateEmailIdentityPolicyCommand({ EmailIdentity: 'api.test', PolicyName: 'Partner', Policy: allow(PARTNER) }));
    const policies = await v2().send(new GetEmailIdentityPoliciesCommand({ EmailIdentity: 'api.test' }));
    assert.deepEqual(Object.keys(policies.Policies ?? {}), ['Partner']);
    assert.deepEqual(JSON.parse(policies.Policies!.Partner!).Statement[0].Principal, { AWS: [PARTNER] });
    assert.deepEqual((await v2().send(new GetEmailIdentityCommand({ EmailIdentity: 'api.test' }))).Policies, policies.Policies);
    assert.match((await partnerSend()).MessageId!, /-000000$/);

    await v2().send(new UpdateEmailIdentityPolicyCommand({ EmailIdentity: 'api.test', PolicyName: 'Partner', Policy: allow('666666666666') }));
    assert.equal((await sdkRejection(partnerSend())).name, 'AccessDeniedException');
    await v2().send(new DeleteEmailIdentityPolicyCommand({ EmailIdentity: 'api.test', PolicyName: 'Partner' }));
    assert.deepEqual((await v2().send(new GetEmailIdentityPoliciesCommand({ EmailIdentity: 'api.test' }))).Policies, {});

    const invalid = await sdkRejection(v2().send(new CreateEmailIdentityPolicyCommand({ EmailIdentity: 'api.test', PolicyName: 'Bad', Policy: '{"Statement": []}' })));
    assert.deepEqual([invalid.name, invalid.status], ['BadRequestException', 400]);
    assert.match(invalid.message, /^Invalid policy: /);
    await v2().send(new CreateEmailIdentityPolicyCommand({ EmailIdentity: 'api.test', PolicyName: 'Twice', Policy: allow(PARTNER) }));
    const twice = await sdkRejection(v2().send(new CreateEmailIdentityPolicyCommand({ EmailIdentity: 'api.test', PolicyName: 'Twice', Policy: allow(PARTNER) })));
    assert.deepEqual(twice, { name: 'AlreadyExistsException', status: 400, message: 'Policy Twice already exists for identity api.test.' });
    const update = await sdkRejection(v2().send(new UpdateEmailIdentityPolicyCommand({ EmailIdentity: 'api.test', PolicyName: 'Missing', Policy: allow(PARTNER) })));
    assert.deepEqual([update.name, update.status], ['NotFoundException', 404]);
    const identity = await sdkRejection(v2().send(new GetEmailIdentityPoliciesCommand({ EmailIdentity: 'unknown.test' })));
    assert.deepEqual(identity, { name: 'NotFoundException', status: 404, message: 'Email identity unknown.test does not exist.' });
  });

  test('IAM: the default sending policy sends but does not manage; user policies decide per action and resource', async () => {
    assert.match((await v2(sender).send(new SendEmailCommand(simple()))).MessageId!, /-000000$/);
    const account = await sdkRejection(v2(sender).send(new GetAccountCommand({})));
    assert.deepEqual(account, {
      name: 'AccessDeniedException',
      status: 403,
      message: `User: arn:aws:iam::${ACCOUNT}:user/sender is not authorized to perform: ses:GetAccount on resource: * because no identity-based policy allows the ses:GetAccount action`,
    });
    const create = await sdkRejection(v2(sender).send(new CreateEmailIdentityCommand({ EmailIdentity: 'new.test' })));
    assert.equal(create.message, `User: arn:aws:iam::${ACCOUNT}:user/sender is not authorized to perform: ses:CreateEmailIdentity on resource: arn:aws:ses:${REGION}:${ACCOUNT}:identity/new.test because no identity-based policy allows the ses:CreateEmailIdentity action`);
    const quota = await sdkRejection(v1(sender).send(new GetSendQuotaCommand({})));
    assert.deepEqual([quota.name, quota.status], ['AccessDenied', 403]);
    const env = { ...process.env, AWS_ACCESS_KEY_ID: sender.accessKeyId, AWS_SECRET_ACCESS_KEY: sender.secretAccessKey, AWS_DEFAULT_REGION: REGION, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    const cliRefused = await run('aws', ['sesv2', 'get-account', '--endpoint-url', endpoint], { env });
    assert.notEqual(cliRefused.code, 0);
    assert.match(cliRefused.stderr, /\(AccessDeniedException\) when calling the GetAccount operation: User: arn:aws:iam::333333333333:user\/sender is not authorized to perform: ses:GetAccount/);

    // The operator widens the user's policy: one identity readable, GetAccount explicitly denied.
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ses:SendRawEmail', Resource: '*' },
        { Effect: 'Allow', Action: ['ses:GetEmailIdentity', 'ses:GetAccount'], Resource: [`arn:aws:ses:${REGION}:${ACCOUNT}:identity/api.test`, '*'] },
        { Effect: 'Deny', Action: 'ses:GetAccount', Resource: '*' },
        { Effect: 'Deny', Action: 'ses:GetEmailIdentity', NotResource: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/api.test` },
      ],
    };
    await run(process.execPath, [RELAYGATE_BIN, '--data-dir', gateway.dataDir, '--config', join(gateway.dataDir, 'relaygate.yaml'), 'policy', 'put', 'AmazonSesSendingAccess', '--account', ACCOUNT, '--user', 'sender', '--file', '-'], {
      input: JSON.stringify(policy),
    }).then((result) => assert.equal(result.code, 0, result.stderr));
    assert.equal((await v2(sender).send(new GetEmailIdentityCommand({ EmailIdentity: 'api.test' }))).VerifiedForSendingStatus, true);
    const other = await sdkRejection(v2(sender).send(new GetEmailIdentityCommand({ EmailIdentity: 'other.test' })));
    assert.equal(other.message, `User: arn:aws:iam::${ACCOUNT}:user/sender is not authorized to perform: ses:GetEmailIdentity on resource: arn:aws:ses:${REGION}:${ACCOUNT}:identity/other.test with an explicit deny in an identity-based policy`);
    const denied = await sdkRejection(v2(sender).send(new GetAccountCommand({})));
    assert.equal(denied.message, `User: arn:aws:iam::${ACCOUNT}:user/sender is not authorized to perform: ses:GetAccount on resource: * with an explicit deny in an identity-based policy`);
  });

  test('presigned URLs (the AWS SDK signer, botocore) are accepted once; an expired one is refused', async () => {
    const url = await presignUrl({ endpoint, credentials: admin, region: REGION, path: '/v2/email/account', expiresIn: 60 });
    const answer = await fetch(url);
    assert.equal(answer.status, 200);
    assert.equal(((await answer.json()) as { SendingEnabled: boolean }).SendingEnabled, true);
    const again = await fetch(url);
    assert.deepEqual([again.status, again.headers.get('x-amzn-errortype')], [403, 'InvalidSignatureException']);

    const expired = await fetch(await presignUrl({ endpoint, credentials: admin, region: REGION, path: '/v2/email/account', expiresIn: 60, signingDate: new Date(Date.now() - 120_000) }));
    assert.deepEqual([expired.status, expired.headers.get('x-amzn-errortype')], [400, 'RequestExpired']);
    assert.match(((await expired.json()) as { message: string }).message, /^Request has expired: signed at \d{8}T\d{6}Z for 60 seconds/);

    const v1Url = await presignUrl({ endpoint, credentials: admin, region: REGION, path: '/', query: { Action: 'GetSendQuota', Version: '2010-12-01' }, expiresIn: 60 });
    const quota = await fetch(v1Url);
    assert.equal(quota.status, 200);
    assert.match(await quota.text(), /^<GetSendQuotaResponse xmlns="http:\/\/ses\.amazonaws\.com\/doc\/2010-12-01\/">\n {2}<GetSendQuotaResult><Max24HourSend>/);

    // Not 60 s: signed within the same second as the first URL above, it would be that URL again, which the replay guard refuses.
    const script = "import sys, botocore.session\nclient = botocore.session.get_session().create_client('sesv2', region_name='us-east-1', endpoint_url=sys.argv[1])\nprint(client.generate_presigned_url('get_account', ExpiresIn=61))";
    const env = { ...process.env, AWS_ACCESS_KEY_ID: admin.accessKeyId, AWS_SECRET_ACCESS_KEY: admin.secretAccessKey, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    const botocore = await run('python3', ['-c', script, endpoint], { env });
    assert.equal(botocore.code, 0, botocore.stderr);
    assert.match(botocore.stdout, /X-Amz-Expires=61/);
    assert.equal((await fetch(botocore.stdout.trim())).status, 200);
  });

  test('a request replayed to a second gateway process on the same data directory is refused', async () => {
    const second = await startGatewayProcess({ dataDir: gateway.dataDir, configFile: join(gateway.dataDir, 'second.yaml'), config: { smtp: { hostname: 'relay.test' }, http: httpConfig() }, listen: ['127.0.0.1:0=tls'] });
    try {
      const captured: Array<{ path: string; headers: Record<string, string> }> = [];
      const client = v2();
      client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { path: string; headers: Record<string, string> };
          captured.push({ path: request.path, headers: { ...request.headers } });
          return next(args);
        },
        { step: 'finalizeRequest', priority: 'low' },
      );
      await client.send(new GetAccountCommand({}));
      // The same bytes, Host header included, to the other process.
      const replay = await new Promise<{ status: number; type: string | undefined }>((resolve, reject) => {
        const request = httpRequest({ host: '127.0.0.1', port: second.httpPorts[0], path: captured[0]!.path, headers: captured[0]!.headers }, (response) => {
          response.resume();
          resolve({ status: response.statusCode ?? 0, type: response.headers['x-amzn-errortype'] as string | undefined });
        });
        request.on('error', reject);
        request.end();
      });
      assert.deepEqual(replay, { status: 403, type: 'InvalidSignatureException' });
      // The second process itself answers fresh requests.
      assert.equal((await v2(admin, `http://127.0.0.1:${second.httpPorts[0]}`).send(new GetAccountCommand({}))).SendingEnabled, true);
    } finally {
      await second.stop();
    }
  });
});
