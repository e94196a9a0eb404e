import { boundedText } from '../../common/bounded-text.js';

/** One block of `Name: value` fields (RFC 3464 and RFC 5965 use the header syntax of RFC 5322), by lower-case name. */
export type FieldBlock = Map<string, string[]>;

const FIELD = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)$/;

/**
 * Splits a machine-readable report part into its blank-line separated blocks: a DSN's per-message block then one per
 * recipient, or an ARF report's single block. Folded lines are joined and every run of white space becomes one space.
 */
export function readFieldBlocks(text: string): FieldBlock[] {
  const blocks: FieldBlock[] = [];
  for (const chunk of text.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/)) {
    const block: FieldBlock = new Map();
    for (const line of chunk.replace(/\n[ \t]+/g, ' ').split('\n')) {
      const match = FIELD.exec(line);
      if (!match) continue;
      const name = match[1]!.toLowerCase();
      const value = match[2]!.replace(/[ \t]+/g, ' ').trim();
      // Appended in place: copying the list for every repeat made a report of one field repeated quadratic.
      const values = block.get(name);
      if (values) values.push(value);
      else block.set(name, [value]);
    }
    if (block.size > 0) blocks.push(block);
  }
  return blocks;
}

/** A field's first value, bounded: it is copied into an event for every recipient the report names. */
export function firstField(block: FieldBlock | undefined, name: string): string | undefined {
  const value = block?.get(name)?.[0];
  return value === '' || value === undefined ? undefined : boundedText(value);
}

/** The address of a typed address field (`rfc822; jane@example.com`), without angle brackets. */
export function typedAddress(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const semicolon = value.indexOf(';');
  const address = (semicolon === -1 ? value : value.slice(semicolon + 1)).trim().replace(/^<(.*)>$/, '$1').trim();
  return address === '' ? undefined : address;
}
