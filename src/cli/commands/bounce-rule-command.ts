import { Command, Option } from 'commander';
import { BounceRulesError, classifySmtpReply, defaultBounceRules, formatClassification, loadBounceRules, REPLY_STAGES, type BounceRule, type ReplyStage } from '../../delivery/bounce/index.js';
import { output, UsageError } from '../cli-context.js';

export function bounceRuleCommand(): Command {
  const command = new Command('bounce-rule').description('the rules that classify remote SMTP replies into SES bounce types (assets/bounce-rules.yaml)');

  command
    .command('test')
    .description('show how a remote reply is classified: deliver, retry or bounce, with the SES bounce type and the rule that decided')
    .argument('<reply>', 'the reply, e.g. "550 5.1.1 <a@example.com>: user unknown" (continuation lines separated by \\n)')
    .addOption(new Option('--stage <stage>', 'the command that drew the reply').choices([...REPLY_STAGES]))
    .option('--rules <file>', 'a rules file to use instead of the shipped one')
    .option('--json', 'print JSON')
    .action((reply: string, options: { stage?: ReplyStage; rules?: string; json?: boolean }) => {
      const rules = options.rules ? rulesFile(options.rules) : defaultBounceRules();
      const classification = classifySmtpReply(reply.replace(/\\n/g, '\n'), { stage: options.stage }, rules);
      output(options.json, classification, () => formatClassification(classification));
    });

  return command;
}

/** A rules file's mistakes are the operator's to fix: reported as one line. */
function rulesFile(path: string): BounceRule[] {
  try {
    return loadBounceRules(path);
  } catch (error) {
    if (error instanceof BounceRulesError) throw new UsageError(error.message);
    throw error;
  }
}
