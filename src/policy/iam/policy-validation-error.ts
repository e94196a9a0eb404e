/** A policy document that is not valid; the message names the element and what is wrong with it. */
export class PolicyValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyValidationError';
  }
}
