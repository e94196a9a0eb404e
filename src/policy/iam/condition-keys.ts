/**
 * The condition keys an SES sending request carries. SES defines the `ses:` keys; of the AWS-wide
 * keys it implements only a few (guide: "Restricting General API Usage"). Other keys may appear in a
 * policy, but a request never has them, so conditions on them see a missing key.
 */
export interface ConditionKeyInfo {
  /** The IAM value type, which decides the operators that make sense for the key. */
  readonly type: 'String' | 'Date' | 'Numeric' | 'Bool' | 'IpAddress';
  /** Multi-valued keys need ForAllValues:/ForAnyValue: to say how their values combine. */
  readonly multiValued: boolean;
  readonly description: string;
}

export const SES_CONDITION_KEYS = {
  'ses:FromAddress': {
    type: 'String',
    multiValued: false,
    description: 'The "From" address of the message.',
  },
  'ses:Recipients': {
    type: 'String',
    multiValued: true,
    description: 'Every recipient address: To, CC and BCC (for SMTP, every RCPT TO).',
  },
  'ses:FromDisplayName': {
    type: 'String',
    multiValued: false,
    description: 'The display name of the "From" address ("John Doe" in "John Doe <johndoe@example.com>").',
  },
  'ses:FeedbackAddress': {
    type: 'String',
    multiValued: false,
    description: 'The "Return-Path" address, where bounces and complaints are forwarded by email (for SMTP, MAIL FROM).',
  },
  'ses:ApiVersion': {
    type: 'String',
    multiValued: false,
    description: 'The SES API version the request was made with.',
  },
  'aws:SourceIp': {
    type: 'IpAddress',
    multiValued: false,
    description: 'The IP address of the client that made the request.',
  },
  'aws:CurrentTime': {
    type: 'Date',
    multiValued: false,
    description: 'The time of the request.',
  },
  'aws:EpochTime': {
    type: 'Date',
    multiValued: false,
    description: 'The time of the request, as epoch seconds; usable with Date and Numeric operators.',
  },
  'aws:SecureTransport': {
    type: 'Bool',
    multiValued: false,
    description: 'Whether the request was made over TLS.',
  },
} as const satisfies Record<string, ConditionKeyInfo>;

export type SesConditionKey = keyof typeof SES_CONDITION_KEYS;
