/**
 * Sending a rendered report file: always as a download (never rendered inline on our origin, so an
 * HTML report cannot run as a page of the console), never cached, with a file name browsers keep.
 */
import type { Response } from 'express';
import type { RenderedFile } from '../reports/index.ts';

/** RFC 6266: a plain ASCII fallback plus the exact UTF-8 name. */
export function attachmentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

export function sendReportFile(res: Response, file: RenderedFile): void {
  res.set({
    'Content-Type': file.contentType,
    'Content-Disposition': attachmentDisposition(file.fileName),
    'Cache-Control': 'no-store',
  });
  res.end(file.body);
}
