import { fieldValue, type HeaderFields } from '../../message/header-section.js';
import type { SesHeader } from '../mail-event.js';

/** SES truncates the original headers "when the headers from the original message are 10 KB or larger". */
export const ORIGINAL_HEADERS_LIMIT = 10 * 1024;

export interface OriginalHeaders {
  headers: SesHeader[];
  truncated: boolean;
}

/**
 * The header fields as the client submitted them (X-SES-* included, in order), for events' `mail.headers`: values
 * unfolded as SES shows them, raw bytes read as UTF-8. A section of 10 KB or more keeps the whole fields that fit
 * below 10 KB and is marked truncated.
 */
export function originalHeaders(section: HeaderFields): OriginalHeaders {
  const headers: SesHeader[] = [];
  let bytes = 0;
  for (const field of section.fields) {
    // Header text is held as latin1 strings, one character per byte.
    bytes += field.raw.length;
    if (bytes >= ORIGINAL_HEADERS_LIMIT) return { headers, truncated: true };
    if (field.name === '') continue;
    headers.push({ name: field.name, value: Buffer.from(fieldValue(field), 'latin1').toString('utf8') });
  }
  return { headers, truncated: false };
}
