const TAG_PART = /^[A-Za-z0-9_-]{1,256}$/;
export const MAX_MESSAGE_TAGS = 50;

export interface ParsedMessageTags {
  tags: Array<[string, string]>;
  /** Entries whose name or value has characters outside SES's set (or is empty or too long), as written. */
  invalid: string[];
}

/** Parses `X-SES-MESSAGE-TAGS: name=value, name2=value2`; SES allows only letters, digits, '-' and '_'. */
export function parseMessageTags(header: string): ParsedMessageTags {
  const parsed: ParsedMessageTags = { tags: [], invalid: [] };
  for (const entry of header.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const equals = entry.indexOf('=');
    const name = equals === -1 ? entry : entry.slice(0, equals).trim();
    const value = equals === -1 ? '' : entry.slice(equals + 1).trim();
    if (TAG_PART.test(name) && TAG_PART.test(value)) parsed.tags.push([name, value]);
    else parsed.invalid.push(entry);
  }
  return parsed;
}
