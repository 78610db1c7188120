/**
 * The e-mails a delivered report sends: the report itself (its HTML as the body, the PDF attached
 * and the requested format too when it differs), or a secure link — with, when asked, the one-time
 * code in a second, separate message, so one intercepted e-mail is not enough to open the report.
 */
import type { Transporter } from 'nodemailer';
import { z } from 'zod';
import { LedgerlineError } from '../../errors/index.ts';
import type { RenderedFile } from '../report-model.ts';

export interface MailSettings {
  readonly mail: Transporter | null;
  readonly mailFrom: string;
  readonly publicUrl: string;
}

export interface DeliveryTarget {
  readonly requestId: string;
  readonly templateSlug: string;
  readonly period: string;
  readonly recipient: string;
}

// nodemailer's SMTP transport answers with the Message-ID it used.
const SentInfo = z.object({ messageId: z.string() });

function requireMail(settings: MailSettings): Transporter {
  // Not retryable in practice: a transport appears only with a restart, so the request fails now with the reason.
  if (!settings.mail) throw new LedgerlineError('LL_INVALID_CONFIG', 'no SMTP server is configured (LEDGERLINE_SMTP_URL), so the report cannot be e-mailed; portal delivery works without one');
  return settings.mail;
}

async function send(settings: MailSettings, message: Record<string, unknown>): Promise<string> {
  const info: unknown = await requireMail(settings).sendMail({ from: settings.mailFrom, ...message });
  const sent = SentInfo.safeParse(info);
  if (!sent.success) throw new LedgerlineError('LL_UPSTREAM', 'the SMTP server did not confirm the message');
  return sent.data.messageId;
}

const subjectOf = (target: DeliveryTarget) => `[Ledgerline] Report ${target.templateSlug}, ${target.period}`;
const hostOf = (publicUrl: string) => new URL(publicUrl).hostname;

/** The report in the message; the Message-ID is the request's, so a resend after a crash reads as the same message. */
export async function sendReportAttachment(settings: MailSettings, target: DeliveryTarget, files: { html: RenderedFile; pdf: RenderedFile; requested: RenderedFile }): Promise<string> {
  const attached = files.requested.format === 'pdf' ? [files.pdf] : [files.pdf, files.requested];
  return send(settings, {
    to: target.recipient,
    subject: subjectOf(target),
    messageId: `<report-${target.requestId}@${hostOf(settings.publicUrl)}>`,
    headers: { 'X-Ledgerline-Report': target.requestId },
    text: `Your Ledgerline report ${target.templateSlug} for ${target.period} is attached (${attached.map((f) => f.fileName).join(', ')}).\nReport request: ${target.requestId}\n`,
    html: files.html.body.toString('utf8'),
    attachments: attached.map((file) => ({ filename: file.fileName, content: file.body, contentType: file.contentType })),
  });
}

export interface LinkMessage {
  readonly url: string;
  readonly expiresAt: Date;
  readonly code: string | null;
}

/** The link, and the code on its own; each resend carries a new link, so it gets its own Message-ID. */
export async function sendReportLink(settings: MailSettings, target: DeliveryTarget, link: LinkMessage): Promise<{ messageId: string; codeMessageId: string | null }> {
  const codeNote = link.code ? '\nA one-time code to open it is sent to you in a separate e-mail.' : '';
  const messageId = await send(settings, {
    to: target.recipient,
    subject: subjectOf(target),
    headers: { 'X-Ledgerline-Report': target.requestId },
    text: `Your Ledgerline report ${target.templateSlug} for ${target.period} is ready:\n\n${link.url}\n\nThe link works until ${link.expiresAt.toISOString()}.${codeNote}\nReport request: ${target.requestId}\n`,
  });
  if (!link.code) return { messageId, codeMessageId: null };
  const codeMessageId = await send(settings, {
    to: target.recipient,
    subject: `[Ledgerline] Your one-time code for report ${target.templateSlug}`,
    headers: { 'X-Ledgerline-Report': target.requestId },
    text: `Your one-time code: ${link.code}\n\nEnter it on the page of the report link we sent you separately. It works until ${link.expiresAt.toISOString()}.\n`,
  });
  return { messageId, codeMessageId };
}
