/**
 * SLA timers of report requests. Two obligations run on every request: to supply the report by
 * `generate_due_at`, and — once delivered — to have it acknowledged by `acknowledge_due_at`. A
 * timer that runs out escalates the request once (status `escalated`, ledger `report.escalated`
 * naming the timer). Work on a request escalated before delivery goes on: the worker still picks
 * it up, and delivery starts the acknowledgement timer, which may escalate once in its turn.
 */
import { z } from 'zod';
import type { LedgerEntryInput } from '../../ledger/ledger.ts';
import { record, type WorkflowContext } from './workflow-context.ts';

const EscalatedRow = z.object({
  id: z.string(),
  tenant_id: z.string(),
  timer: z.enum(['generate', 'acknowledge']),
  due_at: z.union([z.string(), z.date()]).transform((v) => new Date(v).toISOString()),
  previous_status: z.string(),
});

export async function escalateOverdue(ctx: WorkflowContext): Promise<number> {
  const now = ctx.now();
  return ctx.sql.transaction(async (tx) => {
    // Across tenants by design (one sweep for all); the ledger entries go to each row's own tenant.
    // An escalation before delivery lies before the acknowledgement deadline, so that timer still escalates once.
    const rows = (
      await tx.query(
        `with due as (
           select id, status,
                  case when delivered_at is null then 'generate' else 'acknowledge' end as timer,
                  case when delivered_at is null then generate_due_at else acknowledge_due_at end as due_at
             from report_request
            where (delivered_at is null and generate_due_at < $1 and escalated_at is null)
               or (status = 'delivered' and acknowledge_due_at < $1 and (escalated_at is null or escalated_at < acknowledge_due_at))
            order by id
            for update skip locked
         )
         update report_request r set status = 'escalated', escalated_at = $1, updated_at = $1
           from due where r.id = due.id
         returning r.id, r.tenant_id, due.timer, due.due_at, due.status as previous_status`,
        [now.toISOString()],
      )
    ).map((row) => EscalatedRow.parse(row));
    const byTenant = new Map<string, LedgerEntryInput[]>();
    for (const row of rows) {
      const entries = byTenant.get(row.tenant_id) ?? [];
      entries.push({ kind: 'report.escalated', body: { requestId: row.id, reason: 'overdue', timer: row.timer, dueAt: row.due_at, previousStatus: row.previous_status } });
      byTenant.set(row.tenant_id, entries);
    }
    for (const [tenantId, entries] of byTenant) await record(tx, tenantId, entries, now);
    if (rows.length > 0) ctx.log.warn({ escalated: rows.length }, 'report requests escalated: an SLA timer ran out');
    return rows.length;
  });
}
