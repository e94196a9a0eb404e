import type { HeaderField, HeaderFields } from './header-section.js';
import { isSesHeader } from './ses-headers.js';

/**
 * Fields the gateway never passes on: the SES control headers (SES removes them before sending),
 * Bcc (it would disclose blind recipients), Return-Path (the receiving MTA writes the real one),
 * and Date and Message-ID, which SES overrides with its own values.
 */
const REPLACED = new Set(['bcc', 'return-path', 'date', 'message-id']);

const isRemoved = (field: HeaderField): boolean => isSesHeader(field) || REPLACED.has(field.name.toLowerCase());

/** The header section stored with the message: the client's fields minus the removed ones, plus the gateway's Message-ID and Date. */
export function composeStoredHeader(headers: HeaderFields, messageIdHeader: string, date: string): string {
  return `${headers.without(isRemoved).toString()}Message-ID: ${messageIdHeader}\r\nDate: ${date}\r\n`;
}
