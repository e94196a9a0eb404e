/** A DKIM key, name or signing problem, worded for the operator who supplied the key or setting. */
export class DkimError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DkimError';
  }
}
