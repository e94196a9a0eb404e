import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { Logger } from 'pino';
import { formatListener } from '../config/listen-spec.js';
import { UNPRIVILEGED_PORTS, type ListenerConfig, type SmtpConfig } from '../config/schema.js';
import { Replies } from './replies.js';
import { closeSession, installSmtpServerCompat } from './smtp-server-compat.js';
import type { createSubmissionHandlers } from './submission-handlers.js';
import { tlsServerOptions, type TlsMaterial } from './tls-material.js';
import { resumeTlsSessions, type TlsSessionStore } from './tls-session-cache.js';

export interface RunningListener {
  config: ListenerConfig;
  server: SMTPServer;
  /** The bound port (differs from the configured one for port 0). */
  port: number;
}

type Handlers = ReturnType<typeof createSubmissionHandlers>;

/** The session behaviour of ordinary listeners, and of intake listeners (smtp/feedback-intake-handlers.ts). */
export interface ListenerHandlers {
  submission: Handlers;
  intake: Handlers;
}

function serverOptions(listener: ListenerConfig, smtp: SmtpConfig, tls: TlsMaterial, handlers: ListenerHandlers): SMTPServerOptions {
  return {
    ...tlsServerOptions(tls),
    secure: listener.mode === 'tls',
    name: smtp.hostname,
    banner: smtp.banner,
    heloResponse: '%s',
    size: smtp.maxMessageBytes,
    authMethods: ['PLAIN', 'LOGIN'],
    authRequiredMessage: Replies.authenticationRequired,
    // TLS is enforced by the command guard, which knows the plaintext networks.
    allowInsecureAuth: true,
    hideSMTPUTF8: true,
    disableReverseLookup: true,
    socketTimeout: smtp.idleTimeoutSeconds * 1000,
    // Node's own limit for the TLS-wrapper ports; STARTTLS upgrades get the same one from smtp-server-compat.
    handshakeTimeout: smtp.tlsHandshakeTimeoutSeconds * 1000,
    closeTimeout: smtp.shutdownTimeoutSeconds * 1000,
    // The command guard counts commands before AUTH, with the configured limit and the gateway's reply.
    maxAllowedUnauthenticatedCommands: false,
    logger: false,
    // Intake listeners let unauthenticated sessions through to their own RCPT checks.
    authOptional: listener.intake,
    ...(listener.intake ? handlers.intake : handlers.submission),
  };
}

function bind(server: SMTPServer, listener: ListenerConfig): Promise<number> {
  return new Promise((resolve, reject) => {
    // smtp-server re-emits its net server's errors; without a listener an EACCES would crash the process.
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(listener.port, listener.host, () => {
      server.off('error', onError);
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : listener.port);
    });
  });
}

/**
 * Starts one smtp-server per listener. A default listener on a privileged port that the process may
 * not bind moves to its documented unprivileged twin (25→2525, 587→2587, 465→2465); an explicitly
 * configured listener that cannot bind is an error.
 */
export async function startListeners(
  listeners: readonly ListenerConfig[],
  defaults: boolean,
  smtp: SmtpConfig,
  tls: TlsMaterial,
  handlers: ListenerHandlers,
  tlsSessions: TlsSessionStore,
  log: Logger,
): Promise<RunningListener[]> {
  installSmtpServerCompat(Replies.idleTimeout, Replies.messageTooLong);
  const running: RunningListener[] = [];
  const bound = new Set<string>();
  try {
    for (const configured of listeners) {
      let listener = configured;
      // A moved default listener may already occupy its twin's port (587→2587 and the 2587 default). The gateway
      // reports the moves (movedListeners), once however many processes listen.
      if (bound.has(formatListener(listener))) continue;
      let server = new SMTPServer(serverOptions(listener, smtp, tls, handlers));
      let port: number;
      try {
        port = await bind(server, listener);
      } catch (error) {
        const twin = UNPRIVILEGED_PORTS[listener.port];
        if (!defaults || (error as NodeJS.ErrnoException).code !== 'EACCES' || twin === undefined) throw error;
        listener = { ...listener, port: twin };
        if (bound.has(formatListener(listener))) continue;
        server = new SMTPServer(serverOptions(listener, smtp, tls, handlers));
        port = await bind(server, listener);
      }
      bound.add(formatListener(listener));
      resumeTlsSessions(server.server, tlsSessions);
      server.on('error', (error: Error) => log.warn({ err: error, listener: formatListener(listener) }, 'smtp connection error'));
      running.push({ config: listener, server, port });
    }
  } catch (error) {
    await stopListeners(running);
    throw error;
  }
  return running;
}

/** Applies new certificates to every listener; sessions already open keep theirs. */
export function reloadTls(running: readonly RunningListener[], tls: TlsMaterial): void {
  for (const { server } of running) server.updateSecureContext(tlsServerOptions(tls));
}

/**
 * Closes the listening sockets; open sessions carry on. Session workers all do this before any of them closes a
 * session, because the primary keeps the shared socket open (and accepting) until the last worker has let go of it.
 */
export function stopAccepting(running: readonly RunningListener[]): void {
  for (const { server } of running) server.server.close();
}

/**
 * Stops accepting at once and closes every session with 421: idle ones now, one receiving a message
 * right after answering it. Whatever is still open after smtp.shutdownTimeoutSeconds is closed too.
 */
export async function stopListeners(running: readonly RunningListener[]): Promise<void> {
  await Promise.all(
    running.map(
      ({ server }) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const connection of server.connections) closeSession(connection.session, Replies.shuttingDown(), true);
        }),
    ),
  );
}

/** The configured listeners that run on their unprivileged twin instead, as "25→2525". */
export function movedListeners(configured: readonly ListenerConfig[], running: ReadonlyArray<{ config: ListenerConfig }>): string[] {
  return configured
    .filter((listener) => !running.some(({ config }) => config.host === listener.host && config.port === listener.port))
    .map((listener) => `${listener.port}→${UNPRIVILEGED_PORTS[listener.port]}`);
}
