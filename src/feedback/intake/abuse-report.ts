import { firstField, readFieldBlocks, typedAddress } from './report-fields.js';

/** The fields of an RFC 5965 feedback report (ARF) that SES's complaint object carries. */
export interface AbuseReport {
  feedbackType: string | undefined;
  userAgent: string | undefined;
  /** Arrival-Date (or Received-Date) as ISO 8601, when it is a readable date. */
  arrivalDate: string | undefined;
  /** Original-Rcpt-To fields: who received the reported message (often absent: ISPs redact it). */
  originalRecipients: string[];
}

/** Reads a message/feedback-report part. */
export function parseAbuseReport(text: string): AbuseReport {
  const fields = readFieldBlocks(text);
  const first = (name: string) => fields.map((block) => firstField(block, name)).find((value) => value !== undefined);
  const arrival = first('arrival-date') ?? first('received-date');
  const arrivalMs = arrival === undefined ? NaN : Date.parse(arrival);
  return {
    feedbackType: first('feedback-type'),
    userAgent: first('user-agent'),
    arrivalDate: Number.isNaN(arrivalMs) ? undefined : new Date(arrivalMs).toISOString(),
    originalRecipients: fields.flatMap((block) => (block.get('original-rcpt-to') ?? []).flatMap((value) => typedAddress(value) ?? [])),
  };
}
