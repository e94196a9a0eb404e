import { domainOf } from '../../message/addresses.js';
import { MAX_MESSAGE_TAGS, parseMessageTags } from '../message-tags.js';
import { PolicyReplies } from '../policy-replies.js';
import type { PolicyStep } from '../send-policy.js';

/**
 * The X-SES-MESSAGE-TAGS tags and SES's automatic tags, kept with the message for its events. A tag with characters
 * outside SES's set does not stop the send (the guide: "the email sending call will still succeed, but the event
 * metrics will not be emitted"): it is left out of the message's tags and reported with the decision.
 */
export const messageTags: PolicyStep = {
  name: 'message-tags',
  async check(context) {
    const header = context.request.ses.messageTags;
    if (header !== undefined) {
      const parsed = parseMessageTags(header);
      if (parsed.tags.length > MAX_MESSAGE_TAGS) return PolicyReplies.tooManyMessageTags(parsed.tags.length, MAX_MESSAGE_TAGS);
      for (const [name, value] of parsed.tags) context.tags[name] = [value];
      context.droppedTags.push(...parsed.invalid);
    }
    if (context.configurationSet) context.tags['ses:configuration-set'] = [context.configurationSet.name];
    context.tags['ses:source-ip'] = [context.request.sourceIp];
    const from = context.from[0]?.address;
    if (from) context.tags['ses:from-domain'] = [domainOf(from)];
    context.tags['ses:caller-identity'] = [context.request.user.userName];
    return undefined;
  },
};
