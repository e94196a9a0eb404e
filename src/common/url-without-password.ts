/** A URL as it may appear in logs, messages and listings: its password replaced by ***. */
export function urlWithoutPassword(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return text.replace(/\/\/[^/@]*@/, '//***@');
  }
}
