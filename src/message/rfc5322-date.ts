/** An RFC 5322 date in UTC, e.g. `Mon, 23 Nov 2026 14:42:00 +0000`. */
export function formatRfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}
