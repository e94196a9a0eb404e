/** One header field as received: its name and its raw lines (folded continuation lines included, CRLF-terminated). */
export interface HeaderField {
  name: string;
  raw: string;
}

// Header text is kept as latin1 ("binary") strings so every byte survives untouched.
const FIELD_NAME = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/** Splits a header section (CRLF line endings, without the blank separator line) into fields. */
export function parseHeaderSection(section: string): HeaderField[] {
  const fields: HeaderField[] = [];
  if (section === '') return fields;
  for (const line of section.split(/(?<=\r\n)/)) {
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.raw += line;
      continue;
    }
    const match = FIELD_NAME.exec(line);
    fields.push({ name: match?.[1] ?? '', raw: line });
  }
  return fields;
}

/** The unfolded value of a field, without the name and surrounding white space. */
export function fieldValue(field: HeaderField): string {
  const colon = field.raw.indexOf(':');
  return field.raw
    .slice(colon + 1)
    .replace(/\r\n(?=[ \t])/g, '')
    .replace(/\r\n$/, '')
    .trim();
}

/** Whether the first line of a message can start a header section. */
export function startsWithHeaderField(line: string): boolean {
  return FIELD_NAME.test(line);
}

export class HeaderFields {
  constructor(readonly fields: HeaderField[]) {}

  all(name: string): HeaderField[] {
    const lower = name.toLowerCase();
    return this.fields.filter((field) => field.name.toLowerCase() === lower);
  }

  /** The first instance's value, as SES uses the first instance of a repeated X-SES header. */
  first(name: string): string | undefined {
    const field = this.all(name)[0];
    return field ? fieldValue(field) : undefined;
  }

  without(predicate: (field: HeaderField) => boolean): HeaderFields {
    return new HeaderFields(this.fields.filter((field) => !predicate(field)));
  }

  toString(): string {
    return this.fields.map((field) => field.raw).join('');
  }
}
