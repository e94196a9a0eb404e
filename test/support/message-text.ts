/** A small RFC 5322 message with CRLF line endings. */
export function messageText(options: { from?: string; to?: string; subject?: string; extraHeaders?: string[]; body?: string } = {}): string {
  const headers = [
    `From: ${options.from ?? 'Sender <sender@example.com>'}`,
    `To: ${options.to ?? 'recipient@example.org'}`,
    `Subject: ${options.subject ?? 'relaygate test'}`,
    ...(options.extraHeaders ?? []),
  ];
  return `${headers.join('\r\n')}\r\n\r\n${options.body ?? 'Hello from the test suite.\r\n'}`;
}
