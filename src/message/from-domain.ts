import { domainOf, headerMailboxes } from './addresses.js';
import { HeaderFields, parseHeaderSection } from './header-section.js';

/** The domain of the header From address; null when the header has none (the policy refuses such mail, but old queue entries may lack it). */
export function fromDomain(header: Buffer): string | null {
  const [from] = headerMailboxes(new HeaderFields(parseHeaderSection(header.toString('latin1'))), 'From');
  return from ? domainOf(from.address) : null;
}
