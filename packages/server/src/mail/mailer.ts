// Outgoing mail. With SMTP_URL set, mail goes through that SMTP server (nodemailer). Without it — the
// development default — each mail is written as an .eml file under DATA_DIR/mail and its path is logged,
// so nothing is ever silently dropped.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { newId } from '../ids.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

export function createMailer(options: {
  smtpUrl: string | undefined;
  from: string;
  folder: string;
  log: Logger;
}): Mailer {
  if (options.smtpUrl) return new SmtpMailer(nodemailer.createTransport(options.smtpUrl), options.from);
  return new FolderMailer(options.folder, options.from, options.log);
}

class SmtpMailer implements Mailer {
  constructor(
    private readonly transport: Transporter,
    private readonly from: string,
  ) {}

  async send(mail: Mail): Promise<void> {
    await this.transport.sendMail({ from: this.from, ...mail });
  }

  close(): void {
    this.transport.close();
  }
}

class FolderMailer implements Mailer {
  private readonly transport = nodemailer.createTransport({ streamTransport: true, buffer: true });

  constructor(
    private readonly folder: string,
    private readonly from: string,
    private readonly log: Logger,
  ) {}

  async send(mail: Mail): Promise<void> {
    const info = (await this.transport.sendMail({ from: this.from, ...mail })) as { message: Buffer };
    await mkdir(this.folder, { recursive: true });
    const file = join(
      this.folder,
      `${new Date().toISOString().replaceAll(':', '-')}-${newId().slice(0, 8)}.eml`,
    );
    await writeFile(file, info.message);
    // The recipient is personal data; the file holds it, the log does not need it.
    this.log.info({ file, subject: mail.subject }, 'mail written to a file (set SMTP_URL to send mail)');
  }

  close(): void {
    this.transport.close();
  }
}
