import { connect as netConnect, type Socket } from 'node:net';
import type { Readable, Transform } from 'node:stream';
import { pipeStreams } from '../common/pipe-streams.js';
import SMTPConnection, { type SMTPConnectionOptions } from 'nodemailer/lib/smtp-connection/index.js';
import { TransportGuard, UnsendableContentError } from '../message/transport-guard.js';
import { stuffDots } from './dot-stuffing.js';
import { GatewayReplies } from './gateway-replies.js';

/** nodemailer's connection with the faster dot-stuffing (delivery/dot-stuffing.ts) on its DATA stream. */
class FastDataConnection extends SMTPConnection {
  _createSendStream(callback: (error: Error | null, reply?: string) => void): Transform {
    // @ts-expect-error nodemailer's types leave its internal methods out
    const stream = super._createSendStream(callback) as Transform;
    stream._transform = stuffDots as Transform['_transform'];
    return stream;
  }
}

/**
 * How a connection treats TLS. `opportunistic`: STARTTLS when offered, without checking the certificate (as every MTA
 * does: an unauthenticated channel still defeats passive eavesdropping), plaintext when the server refuses STARTTLS.
 * `plaintext`: never STARTTLS (after a failed handshake). `required`: STARTTLS or nothing, certificate not checked
 * (SES's TlsPolicy Require asks for "a secure connection"). `verified`: STARTTLS with a certificate valid for the MX
 * host name (MTA-STS enforce, RFC 8461 4.2).
 */
export type TlsMode = 'opportunistic' | 'plaintext' | 'required' | 'verified';

export interface SmtpClientOptions {
  /** MX address to connect to. */
  host: string;
  port: number;
  /** MX host name: SNI and the name the certificate must match. */
  servername: string;
  /** Source address to bind; undefined lets the system choose. */
  localAddress?: string;
  ehloName: string;
  tls: TlsMode;
  connectTimeoutMs: number;
  greetingTimeoutMs: number;
  dataTimeoutMs: number;
  /** Extra trust anchors for `verified` (PEM); Node's default store otherwise. */
  ca?: string[];
}

export interface SmtpEnvelope {
  /** '' for the null sender. */
  from: string;
  to: string[];
  size: number;
}

export type SendInfo = SMTPConnection.SentMessageInfo;
/** nodemailer's error: `code` (ECONNECTION, ETIMEDOUT, ETLS, EENVELOPE, EMESSAGE…), `response`, `responseCode`, `command`. */
export type SmtpError = SMTPConnection.SMTPError & { originalCode?: string; rejectedErrors?: SmtpError[]; recipient?: string };

/** One SMTP session to an MX host, as promises over nodemailer's SMTPConnection. */
export class SmtpClient {
  private closed = false;
  /** A transaction began (MAIL FROM went out) and has not ended with the server's 250 to the end of data. */
  private transactionOpen = false;

  /**
   * @param localAddress The address the connection left from (the kernel's choice when no source address is bound):
   *   SES's ses:outgoing-ip.
   */
  private constructor(
    private readonly connection: SMTPConnection,
    private readonly mxHost: string,
    readonly localAddress: string,
  ) {
    connection.on('end', () => (this.closed = true));
  }

  /** Connects, says EHLO and (per the TLS mode) STARTTLS; rejects with the SmtpError that stopped it. */
  static async connect(options: SmtpClientOptions): Promise<SmtpClient> {
    const socket = await openSocket(options);
    const connectionOptions: SMTPConnectionOptions = {
      connection: socket,
      host: options.host,
      port: options.port,
      servername: options.servername,
      name: options.ehloName,
      secure: false,
      ignoreTLS: options.tls === 'plaintext',
      opportunisticTLS: options.tls === 'opportunistic',
      requireTLS: options.tls === 'required' || options.tls === 'verified',
      tls: options.tls === 'verified' ? { rejectUnauthorized: true, servername: options.servername, ca: options.ca } : { rejectUnauthorized: false, servername: options.servername },
      // The socket is open already: nodemailer's connection budget covers the greeting, EHLO and STARTTLS.
      connectionTimeout: options.greetingTimeoutMs,
      greetingTimeout: options.greetingTimeoutMs,
      socketTimeout: options.dataTimeoutMs,
      // A connection we close has nothing more to say; do not hold the process for the peer's FIN.
      socketCloseTimeout: 1000,
      logger: false,
    };
    const connection = new FastDataConnection(connectionOptions);
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: SmtpError) => {
        if (settled) return;
        settled = true;
        // nodemailer reports a handshake that fails mid-STARTTLS as a socket error; it is a TLS failure all the same.
        if (connection.upgrading && error.code !== 'ETLS') {
          error.originalCode ??= error.code;
          error.code = 'ETLS';
        }
        connection.close();
        reject(error);
      };
      // Errors after the handshake also reach the pending command's callback, which is where they are handled.
      connection.on('error', (error: SmtpError) => fail(error));
      connection.connect((error) => {
        if (error) return fail(error as SmtpError);
        settled = true;
        resolve(new SmtpClient(connection, options.servername, socket.localAddress ?? ''));
      });
    });
  }

  get secure(): boolean {
    return this.connection.secure;
  }

  /** False once the server or an error has closed the session. */
  get usable(): boolean {
    return !this.closed && !this.connection.destroyed;
  }

  /** Whether the server offered 8BITMIME in its (last) EHLO reply, RFC 6152. */
  get offers8BitMime(): boolean {
    // nodemailer records the extensions it parsed from EHLO but does not declare the field.
    return (this.connection as unknown as { _supportedExtensions: string[] })._supportedExtensions.includes('8BITMIME');
  }

  /**
   * One transaction. The message passes a TransportGuard: content this server must not get (8-bit data without
   * 8BITMIME, NUL, a bare CR or LF, a line over 998 bytes) ends the session before the end of data, so the server
   * drops what it got, and fails the transaction with a 554 reply of the gateway's.
   */
  send(envelope: SmtpEnvelope, message: Readable): Promise<SendInfo> {
    const guard = new TransportGuard(this.offers8BitMime);
    // A read error of the message reaches nodemailer through the guard, which it listens to.
    pipeStreams([message, guard], () => undefined);
    this.transactionOpen = true;
    return new Promise((resolve, reject) => {
      this.connection.send({ from: envelope.from === '' ? false : envelope.from, to: envelope.to, size: envelope.size, use8BitMime: true }, guard, (error, info) => {
        if (!error) {
          this.transactionOpen = false;
          return resolve(info!);
        }
        if (!(error instanceof UnsendableContentError)) return reject(error);
        this.close();
        reject(Object.assign(error, { code: 'EMESSAGE', command: 'DATA', responseCode: 554, response: GatewayReplies.unsendableContent(error.content, this.mxHost) }));
      });
    });
  }

  /**
   * Makes the session ready for the next transaction: RSET after one that failed part-way (a refused MAIL or
   * recipients, a refusal after the data), nothing after one the server took: its 250 to the end of data ended the
   * transaction (RFC 5321 4.1.1.4), so the next MAIL FROM goes out without a round trip of its own.
   */
  readyForNextTransaction(): Promise<void> {
    if (!this.transactionOpen) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.connection.reset((error) => {
        if (error) return reject(error);
        this.transactionOpen = false;
        resolve();
      }),
    );
  }

  /** QUIT; resolves once the connection is closed, so a connection limit counts it until then. */
  quit(): Promise<void> {
    const socket = this.connection._socket;
    const open = this.usable && socket && !socket.destroyed;
    this.closed = true;
    if (!open) {
      this.connection.close();
      return Promise.resolve();
    }
    // nodemailer ends the socket on the 221 and destroys it if the server has not closed within socketCloseTimeout.
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      this.connection.quit();
    });
  }

  close(): void {
    this.closed = true;
    this.connection.close();
  }
}

/**
 * The TCP connection, opened here rather than by nodemailer so that connectTimeoutMs bounds it alone (nodemailer's
 * own timeout would also cover the greeting) and a source address that cannot be bound shows as such.
 */
function openSocket(options: SmtpClientOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: options.host, port: options.port, localAddress: options.localAddress });
    const fail = (code: string, message: string, originalCode?: string) => {
      socket.destroy();
      reject(Object.assign(new Error(message), { code, originalCode, command: 'CONN' }) as SmtpError);
    };
    socket.setTimeout(options.connectTimeoutMs, () => fail('ETIMEDOUT', `Connection timeout connecting to ${options.host}:${options.port}`));
    socket.once('error', (error: NodeJS.ErrnoException) => fail('ECONNECTION', error.message, error.code));
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeAllListeners('error');
      socket.removeAllListeners('timeout');
      resolve(socket);
    });
  });
}
