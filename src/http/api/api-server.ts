import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { formatHttpListener, type HttpListenerConfig } from '../../config/http-options.js';
import type { SigV4Failure, SigV4Verifier } from '../../auth/sigv4-verifier.js';
import { tlsServerOptions, type TlsMaterial } from '../../smtp/tls-material.js';
import { resumeTlsSessions, type TlsSessionStore } from '../../smtp/tls-session-cache.js';
import { StoreUnavailableError } from '../../common/store-unavailable.js';
import { ApiError, badRequest, serviceUnavailable, type ApiDialect } from './api-error.js';
import { Params, type ApiRequest, type ApiServices } from './api-context.js';
import { authorize } from './api-authorization.js';
import { queryError, runQueryAction } from './ses-query-api.js';
import { SESV2_ROUTES } from './sesv2-api.js';

/** Counts the API's requests by operation and HTTP status (the metrics' relaygate_http_requests_total). */
export interface ApiRequestCounter {
  inc(labels: { operation: string; status: string }): void;
}

export interface RunningHttpListener {
  config: HttpListenerConfig;
  server: Server;
  port: number;
}

class BodyTooLarge extends Error {}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    // A small request arrives in one chunk: no copy then.
    request.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    request.on('error', reject);
  });
}

/** AWS's HTTP status for each authentication failure, and the name JSON (v2) services give InvalidClientTokenId. */
function authError(failure: SigV4Failure, dialect: ApiDialect): ApiError {
  const status = failure.code === 'IncompleteSignature' || failure.code === 'RequestExpired' ? 400 : 403;
  const code = dialect === 'v2' && failure.code === 'InvalidClientTokenId' ? 'UnrecognizedClientException' : failure.code;
  return new ApiError(code, status, failure.message);
}

function jsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badRequest('The request body must be a JSON object.');
  return json as Record<string, unknown>;
}

const remoteAddress = (request: IncomingMessage) => (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');

/**
 * SES's HTTP API on the http.listeners: SES v2 (REST/JSON under /v2/) and SES v1 (Query, POST /), every request
 * authenticated with SigV4 against the gateway's credentials. Sends take the same path as SMTP (src/submission).
 */
export class ApiServer {
  private running: RunningHttpListener[] = [];
  private readonly maxBodyBytes: number;

  constructor(
    private readonly services: ApiServices,
    private readonly verifier: SigV4Verifier,
    private readonly requests: ApiRequestCounter | null,
  ) {
    // A raw message travels base64-encoded (and form-encoded in v1): room for that on top of smtp.maxMessageBytes.
    this.maxBodyBytes = Math.ceil(services.config.smtp.maxMessageBytes * 1.5) + 1024 * 1024;
  }

  async start(listeners: readonly HttpListenerConfig[], tls: TlsMaterial, tlsSessions: TlsSessionStore): Promise<RunningHttpListener[]> {
    try {
      for (const listener of listeners) {
        const handler = (request: IncomingMessage, response: ServerResponse) => void this.handle(request, response, listener.tls);
        const server = listener.tls ? createHttpsServer(tlsServerOptions(tls), handler) : createHttpServer(handler);
        server.keepAliveTimeout = 65_000;
        if (listener.tls) resumeTlsSessions(server, tlsSessions);
        const port = await new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(listener.port, listener.host, () => {
            server.off('error', reject);
            const address = server.address();
            resolve(typeof address === 'object' && address ? address.port : listener.port);
          });
        });
        server.on('error', (error) => this.services.log.warn({ err: error, listener: formatHttpListener(listener) }, 'http listener error'));
        server.on('clientError', (error, socket) => {
          this.services.log.debug({ err: error }, 'http client error');
          socket.destroy();
        });
        this.running.push({ config: listener, server, port });
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
    return this.running;
  }

  reloadTls(tls: TlsMaterial): void {
    for (const { config, server } of this.running) if (config.tls) (server as import('node:https').Server).setSecureContext(tlsServerOptions(tls));
  }

  /** Closes the listening sockets; requests in progress carry on until stop(). */
  stopAccepting(): void {
    for (const { server } of this.running) server.close();
  }

  async stop(): Promise<void> {
    const servers = this.running;
    this.running = [];
    await Promise.all(
      servers.map(
        ({ server }) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  private async handle(request: IncomingMessage, response: ServerResponse, secure: boolean): Promise<void> {
    const requestId = randomUUID();
    const url = request.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const dialect: ApiDialect = path.startsWith('/v2/') ? 'v2' : 'v1';
    let operation = dialect === 'v2' ? 'unknown' : 'query';
    try {
      let bodyRead = false;
      const body = async () => {
        try {
          return await readBody(request, this.maxBodyBytes);
        } catch (error) {
          if (!(error instanceof BodyTooLarge)) throw error;
          response.setHeader('Connection', 'close');
          throw new ApiError('MessageRejected', 400, `Message length is more than ${this.services.config.smtp.maxMessageBytes} bytes.`);
        } finally {
          bodyRead = true;
        }
      };
      const verified = await this.verifier.verify({ method: request.method ?? 'GET', url, headers: request.headers, body });
      if (!verified.ok) {
        this.services.log.info({ request: requestId, remoteAddress: remoteAddress(request), code: verified.failure.code }, 'api request refused: authentication');
        // The body was never read: the connection cannot carry another request.
        if (!bodyRead) response.setHeader('Connection', 'close');
        throw authError(verified.failure, dialect);
      }
      const { credential, body: requestBody } = verified;
      const context: ApiRequest = {
        services: this.services,
        accountId: credential.accountId,
        caller: {
          user: { accessKeyId: credential.accessKeyId, accountId: credential.accountId, userName: credential.userName },
          sourceIp: remoteAddress(request),
          secure,
          requestId,
        },
      };
      const query = url.split(/\?(.*)/s)[1] ?? '';
      if (dialect === 'v1') {
        // The Query API's parameters: a form-encoded POST body, or the query of a GET (a presigned URL).
        const form = request.method === 'POST' ? requestBody.toString('utf8') : request.method === 'GET' ? query : null;
        if (form === null || path !== '/') throw new ApiError('InvalidAction', 400, 'SES v1 requests are POST / with form-encoded parameters, or GET / with them in the query.');
        const result = await runQueryAction(context, new URLSearchParams(form));
        operation = result.action;
        return this.answer(response, 200, 'text/xml', result.xml, requestId, operation);
      }
      for (const route of SESV2_ROUTES) {
        const match = route.method === request.method ? route.path.exec(path) : null;
        if (!match) continue;
        operation = route.operation;
        const labels = match.slice(1).map((label) => decodeURIComponent(label));
        const params = new Params(jsonBody(requestBody), (message) => badRequest(message));
        if (route.resource) await authorize(context, `ses:${route.operation}`, route.resource(context, labels, params), 'v2');
        const result = await route.handle(context, labels, params, new URLSearchParams(query));
        return this.answer(response, 200, 'application/json', JSON.stringify(result), requestId, operation);
      }
      throw new ApiError('UnknownOperationException', 404, `No operation matches ${request.method} ${path}.`);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : error instanceof StoreUnavailableError ? serviceUnavailable() : new ApiError('InternalFailure', 500, 'The request processing has failed because of an unknown error.');
      if (error instanceof StoreUnavailableError) this.services.log.warn({ request: requestId, operation, reason: error.message }, 'api request deferred: store unavailable');
      else if (!(error instanceof ApiError)) this.services.log.error({ err: error, request: requestId, operation }, 'api request failed');
      if (dialect === 'v1') return this.answer(response, apiError.status, 'text/xml', queryError(apiError, requestId), requestId, operation);
      response.setHeader('x-amzn-ErrorType', apiError.code);
      return this.answer(response, apiError.status, 'application/json', JSON.stringify({ message: apiError.message }), requestId, operation);
    }
  }

  private answer(response: ServerResponse, status: number, type: string, text: string, requestId: string, operation: string): void {
    this.requests?.inc({ operation, status: String(status) });
    response.writeHead(status, { 'Content-Type': type, 'x-amzn-RequestId': requestId, 'Content-Length': Buffer.byteLength(text) });
    response.end(text);
  }
}
