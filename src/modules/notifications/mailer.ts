import nodemailer from 'nodemailer';

export interface Email {
  to: string;
  subject: string;
  text: string;
}

/** Sends one email; throws when the server refuses it or cannot be reached. */
export interface Mailer {
  send(email: Email): Promise<{ messageId: string }>;
  close(): void;
}

/**
 * An SMTP mailer (nodemailer) for `HAVEN_SMTP_URL`. Its time limits add up to well under the
 * worker's lease on an email (`HAVEN_MAIL_LEASE_MS`, 5 minutes), so a slow server cannot make a
 * second worker take over a send still under way.
 */
export function smtpMailer(smtpUrl: string, from: string): Mailer {
  const url = new URL(smtpUrl);
  for (const [key, ms] of [
    ['connectionTimeout', '30000'],
    ['greetingTimeout', '30000'],
    ['socketTimeout', '60000'],
  ] as const)
    if (!url.searchParams.has(key)) url.searchParams.set(key, ms);
  const transport = nodemailer.createTransport(url.toString(), { from });
  return {
    async send(email) {
      const info = await transport.sendMail({
        to: email.to,
        subject: email.subject,
        text: email.text,
      });
      return { messageId: String(info.messageId ?? '') };
    },
    close: () => transport.close(),
  };
}
