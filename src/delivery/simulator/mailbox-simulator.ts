import { mailEvent, sesTimestamp, type MessageForEvents } from '../../events/event-builders.js';
import type { MailEvent } from '../../events/mail-event.js';
import { feedbackIdFor } from '../../message/message-id.js';
import type { Classification } from '../bounce/index.js';

/**
 * What SES's mailbox simulator does for each of its addresses at simulator.amazonses.com (the guide's table,
 * L8213–8217), decided here without any DNS lookup or connection: `success` is delivered; `bounce` is refused with
 * 550 5.1.1 (Permanent/General); `ooto` is delivered and answered with an automatic reply to the sender; `complaint`
 * is delivered and complained about; `suppressionlist` bounces as if on the global suppression list
 * (Permanent/Suppressed). A `+label` is ignored. Any other local part does not exist there: it bounces like `bounce`.
 */
export type SimulatorScenario = 'success' | 'bounce' | 'ooto' | 'complaint' | 'suppressionlist';

export interface SimulatedReply {
  scenario: SimulatorScenario;
  reply: string;
  classification: Classification;
}

/** The reporting name the simulator's results and complaint carry. */
export const SIMULATOR_USER_AGENT = 'Amazon SES Mailbox Simulator';

const SCENARIOS: readonly SimulatorScenario[] = ['success', 'bounce', 'ooto', 'complaint', 'suppressionlist'];

const delivered = (scenario: SimulatorScenario): SimulatedReply => ({
  scenario,
  reply: '250 2.6.0 Message received',
  classification: { action: 'deliver', bounceType: null, bounceSubType: null, category: 'delivered', rule: 'mailbox-simulator', code: 250, enhancedCode: '2.6.0' },
});

const bounced = (scenario: SimulatorScenario, reply: string, bounceSubType: 'General' | 'Suppressed'): SimulatedReply => ({
  scenario,
  reply,
  classification: { action: 'bounce', bounceType: 'Permanent', bounceSubType, category: 'recipient', rule: 'mailbox-simulator', code: 550, enhancedCode: '5.1.1' },
});

export function simulatorScenario(recipient: string): SimulatorScenario | null {
  const local = recipient.slice(0, recipient.lastIndexOf('@')).toLowerCase().split('+')[0]!;
  return (SCENARIOS as readonly string[]).includes(local) ? (local as SimulatorScenario) : null;
}

export function simulatedReply(recipient: string): SimulatedReply {
  const scenario = simulatorScenario(recipient) ?? 'bounce';
  switch (scenario) {
    case 'bounce':
      return bounced(scenario, '550 5.1.1 user unknown', 'General');
    case 'suppressionlist':
      return bounced(scenario, '550 5.1.1 Recipient address is on the suppression list', 'Suppressed');
    default:
      return delivered(scenario);
  }
}

/** complaint@'s Complaint, as an ISP's feedback loop would report it (its feedbackId is the event id). */
export function simulatedComplaint(message: MessageForEvents, recipients: readonly string[], at: number): MailEvent {
  const feedbackId = feedbackIdFor(message.id, at);
  return mailEvent(
    'Complaint',
    message,
    at,
    {
      complainedRecipients: recipients.map((emailAddress) => ({ emailAddress })),
      timestamp: sesTimestamp(at),
      feedbackId,
      complaintSubType: null,
      userAgent: SIMULATOR_USER_AGENT,
      complaintFeedbackType: 'abuse',
      arrivalDate: sesTimestamp(at),
    },
    feedbackId,
  );
}
