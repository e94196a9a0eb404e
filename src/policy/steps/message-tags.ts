import { domainOf } from '../../message/addresses.js';
import { parseMessageTags } from '../message-tags.js';
import { PolicyReplies } from '../policy-replies.js';
import type { PolicyStep } from '../send-policy.js';

/** X-SES-MESSAGE-TAGS must be valid; the message also gets SES's automatic tags for its events. */
export const messageTags: PolicyStep = {
  name: 'message-tags',
  async check(context) {
    const header = context.request.ses.messageTags;
    if (header !== undefined) {
      const parsed = parseMessageTags(header);
      if ('invalid' in parsed) return PolicyReplies.invalidMessageTag(parsed.invalid);
      for (const [name, value] of parsed.tags) context.tags[name] = [value];
    }
    if (context.configurationSet) context.tags['ses:configuration-set'] = [context.configurationSet.name];
    context.tags['ses:source-ip'] = [context.request.sourceIp];
    const from = context.from[0]?.address;
    if (from) context.tags['ses:from-domain'] = [domainOf(from)];
    context.tags['ses:caller-identity'] = [context.request.user.userName];
    return undefined;
  },
};
