import { isIP } from 'node:net';
import { firstField, readFieldBlocks, typedAddress } from './report-fields.js';

/** One recipient of an RFC 3464 delivery status notification. */
export interface RecipientStatus {
  finalRecipient: string | undefined;
  originalRecipient: string | undefined;
  /** failed, delayed, delivered, relayed or expanded (lower case). */
  action: string;
  /** The status code, e.g. 5.1.1, without a trailing comment. */
  status: string | undefined;
  /** The whole Diagnostic-Code value, e.g. `smtp; 550 5.1.1 user unknown`. */
  diagnosticCode: string | undefined;
  /** The IP address of the Remote-MTA field, when it gives one. */
  remoteMtaIp: string | undefined;
}

export interface DeliveryStatus {
  /** The whole Reporting-MTA value, e.g. `dns; mx.example.net` (SES's reportingMTA). */
  reportingMta: string | undefined;
  recipients: RecipientStatus[];
}

/** The IP address in a Remote-MTA value (`dns; [192.0.2.7]`, `ip; 192.0.2.7`); undefined for a host name. */
function remoteMtaIp(value: string | undefined): string | undefined {
  const host = typedAddress(value)?.replace(/^\[(?:ipv6:)?(.*)\]$/i, '$1');
  return host !== undefined && isIP(host) !== 0 ? host : undefined;
}

/** Reads a message/delivery-status part; null when it names no recipient. */
export function parseDeliveryStatus(text: string): DeliveryStatus | null {
  const [perMessage, ...perRecipient] = readFieldBlocks(text);
  const recipients = perRecipient
    .filter((block) => block.has('final-recipient') || block.has('original-recipient'))
    .map(
      (block): RecipientStatus => ({
        finalRecipient: typedAddress(firstField(block, 'final-recipient')),
        originalRecipient: typedAddress(firstField(block, 'original-recipient')),
        action: (firstField(block, 'action') ?? '').toLowerCase(),
        status: firstField(block, 'status')?.split(/\s/)[0],
        diagnosticCode: firstField(block, 'diagnostic-code'),
        remoteMtaIp: remoteMtaIp(firstField(block, 'remote-mta')),
      }),
    );
  if (recipients.length === 0) return null;
  return { reportingMta: firstField(perMessage, 'reporting-mta'), recipients };
}
