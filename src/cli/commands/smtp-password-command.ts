import { Command } from 'commander';
import { deriveSmtpPassword } from '../../auth/smtp-password.js';

export function smtpPasswordCommand(): Command {
  return new Command('smtp-password')
    .description("derive the SES SMTP password from a secret access key, like the SES guide's script (prints only the password)")
    .argument('<secretAccessKey>')
    .argument('<region>', 'e.g. us-east-1')
    .action((secret: string, region: string) => {
      process.stdout.write(`${deriveSmtpPassword(secret, region)}\n`);
    });
}
