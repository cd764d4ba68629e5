// A real SMTP server in-process for tests: the coordinator sends through its real nodemailer transport
// (SMTP_URL) and tests read what arrived.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
}

export interface TestSmtpServer {
  url: string;
  mails: ReceivedMail[];
  /** Waits for a mail to the address (newest first), optionally with a subject containing `subject`. */
  waitFor(to: string, subject?: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** The first link to the web app in a mail, e.g. `/verify-email?token=…`, and its token. */
  tokenIn(mail: ReceivedMail): string;
  close(): Promise<void>;
}

export async function startTestSmtpServer(): Promise<TestSmtpServer> {
  const mails: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          for (const rcpt of session.envelope.rcptTo) {
            mails.push({ to: rcpt.address, subject: parsed.subject ?? '', text: parsed.text ?? '' });
          }
          for (const wake of waiters) wake();
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  const find = (to: string, subject?: string) =>
    mails.findLast((m) => m.to === to && (subject === undefined || m.subject.includes(subject)));

  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    async waitFor(to, subject, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = find(to, subject);
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no mail to ${to}${subject ? ` about "${subject}"` : ''} arrived`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
    },
    tokenIn(mail) {
      const match = /[?&]token=([A-Za-z0-9_%-]+)/.exec(mail.text);
      if (!match?.[1]) throw new Error(`no token link in the mail "${mail.subject}"`);
      return decodeURIComponent(match[1]);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
