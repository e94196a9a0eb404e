import type { AuthenticatedUser } from '../auth/smtp-authenticator.js';
import type { HeaderFields } from '../message/header-section.js';
import type { SesControlHeaders } from '../message/ses-headers.js';

/** Everything the policy steps may look at when a message's DATA has ended. */
export interface SendRequest {
  user: AuthenticatedUser;
  mailFrom: string;
  recipients: string[];
  /** The client's header fields as received (before the gateway removes or replaces any). */
  headers: HeaderFields;
  ses: SesControlHeaders;
  sourceIp: string;
  secure: boolean;
  size: number;
  /** When DATA began: the request time of the IAM conditions (the send limits are charged when the message is decided). */
  now: Date;
  /** The message as received (header section, blank line, body), for content checks that need the body. */
  openMessage(): NodeJS.ReadableStream;
}
