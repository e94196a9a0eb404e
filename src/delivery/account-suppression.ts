import type { Classification } from './bounce/index.js';

/**
 * The outcome of a recipient on the sending account's suppression list: accepted, never sent, bounced as SES does
 * (Permanent/OnAccountSuppressionList, which the bounce rate leaves out).
 */
export const ACCOUNT_SUPPRESSION: { reply: string; classification: Classification } = {
  reply: '550 5.1.1 Recipient address is on the account-level suppression list',
  classification: {
    action: 'bounce',
    bounceType: 'Permanent',
    bounceSubType: 'OnAccountSuppressionList',
    category: 'suppressed',
    rule: 'account-suppression-list',
    code: 550,
    enhancedCode: '5.1.1',
  },
};
