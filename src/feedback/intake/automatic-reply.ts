import type { FeedbackMessage } from './feedback-message.js';

// Subjects of vacation and out-of-office replies from MTAs and clients that set none of the headers below.
const AUTOMATIC_REPLY_SUBJECT = /^\s*(?:auto(?:matic)?[ -]?(?:reply|response)|out of (?:the )?office|(?:i am|i'm) (?:away|out of the office)|on vacation|vacation reply|abwesenheitsnotiz|absence|réponse automatique)\b/i;

/**
 * Whether a message is an automatic reply (RFC 3834: Auto-Submitted: auto-replied; the X-Autoreply, X-Autorespond and
 * Precedence: auto_reply markers of older responders; out-of-office subjects). Checked after the DSN and ARF checks,
 * because MTAs mark their DSNs auto-replied too.
 */
export function isAutomaticReply(message: FeedbackMessage): boolean {
  if (message.header('auto-submitted')?.trim().toLowerCase().startsWith('auto-replied')) return true;
  if (message.header('x-autoreply') !== undefined || message.header('x-autorespond') !== undefined) return true;
  if (message.header('precedence')?.trim().toLowerCase() === 'auto_reply') return true;
  return AUTOMATIC_REPLY_SUBJECT.test(message.header('subject') ?? '');
}
