import type { ControlStore } from '../../store/control-store.js';
import { PolicyReplies } from '../policy-replies.js';
import type { PolicyStep } from '../send-policy.js';

/**
 * The configuration set named by X-SES-CONFIGURATION-SET, or else the default set of the most
 * specific verified identity of the From address; it must exist and be enabled.
 */
export function configurationSetUsable(store: ControlStore): PolicyStep {
  return {
    name: 'configuration-set',
    async check(context) {
      let name = context.request.ses.configurationSet;
      const from = context.from[0]?.address;
      if (name === undefined && from) {
        name = (await context.ownSenderIdentities(store)).get(from)?.defaultConfigurationSet ?? undefined;
      }
      if (name === undefined) return undefined;
      const set = await store.configurationSets.get(context.account.id, name);
      if (!set) return PolicyReplies.configurationSetMissing(name);
      if (!set.sendingEnabled) return PolicyReplies.configurationSetPaused(name);
      context.configurationSet = set;
      return undefined;
    },
  };
}
