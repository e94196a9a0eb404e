const TAG_PART = /^[A-Za-z0-9_-]{1,256}$/;
const MAX_TAGS = 50;

export type TagParseResult = { tags: Array<[string, string]> } | { invalid: string };

/** Parses `X-SES-MESSAGE-TAGS: name=value, name2=value2`; SES allows only letters, digits, '-' and '_'. */
export function parseMessageTags(header: string): TagParseResult {
  const tags: Array<[string, string]> = [];
  for (const entry of header.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const equals = entry.indexOf('=');
    const name = equals === -1 ? entry : entry.slice(0, equals).trim();
    const value = equals === -1 ? '' : entry.slice(equals + 1).trim();
    if (!TAG_PART.test(name) || !TAG_PART.test(value)) return { invalid: entry };
    tags.push([name, value]);
  }
  if (tags.length > MAX_TAGS) return { invalid: `${tags.length} tags (at most ${MAX_TAGS})` };
  return { tags };
}
