import MailComposer from 'nodemailer/lib/mail-composer';

export interface SimpleContent {
  from: string;
  to: string[];
  cc: string[];
  replyTo: string[];
  subject: string;
  text?: string;
  html?: string;
  /** Extra header fields (SES v2 Simple.Headers). */
  headers: Array<{ name: string; value: string }>;
}

/**
 * The MIME message SES builds from Simple content (v2) or SendEmail (v1): the listed To and Cc (never Bcc) in the
 * header, text and/or HTML as multipart/alternative. It then takes the same path as a raw message.
 */
export async function composeSimpleMessage(content: SimpleContent): Promise<Buffer> {
  const composer = new MailComposer({
    from: content.from,
    ...(content.to.length > 0 ? { to: content.to } : {}),
    ...(content.cc.length > 0 ? { cc: content.cc } : {}),
    ...(content.replyTo.length > 0 ? { replyTo: content.replyTo } : {}),
    subject: content.subject,
    ...(content.text !== undefined ? { text: content.text } : {}),
    ...(content.html !== undefined ? { html: content.html } : {}),
    headers: content.headers.map(({ name, value }) => ({ key: name, value })),
  });
  return composer.compile().build();
}
