import type { ConditionContext } from './iam/index.js';
import type { SendContext } from './send-context.js';

/** The IAM condition keys of an SMTP send, filled as SES documents them. */
export function sendConditionContext(context: SendContext): ConditionContext {
  const { request } = context;
  return {
    'ses:FromAddress': context.from[0]?.address,
    'ses:FromDisplayName': context.from[0]?.displayName || undefined,
    'ses:Recipients': request.recipients,
    'ses:FeedbackAddress': context.feedbackAddress || undefined,
    'aws:SourceIp': request.sourceIp,
    'aws:SecureTransport': request.secure,
    'aws:CurrentTime': request.now,
    'aws:EpochTime': Math.floor(request.now.getTime() / 1000),
  };
}
