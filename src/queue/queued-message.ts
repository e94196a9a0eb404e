import type { SesControlHeaders } from '../message/ses-headers.js';

/** What the gateway knows about an accepted message besides its bytes. */
export interface MessageMetadata {
  /** The submitting client's address and whether the session used TLS. */
  sourceIp: string;
  tls: boolean;
  heloName: string;
  ses: SesControlHeaders;
}

export interface QueuedMessage {
  id: string;
  accountId: string;
  accessKeyId: string;
  mailFrom: string;
  recipients: string[];
  /** The stored header section (CRLF-terminated fields, no blank line); the body is in the spool. */
  header: Buffer;
  bodyFile: string;
  /** Bytes of header, separator and body as they will be sent. */
  size: number;
  receivedAt: Date;
  metadata: MessageMetadata;
}

export interface QueuedMessageSummary {
  id: string;
  accountId: string;
  mailFrom: string;
  recipients: string[];
  size: number;
  receivedAt: Date;
}

export interface QueueFilter {
  accountId?: string;
  limit?: number;
}
