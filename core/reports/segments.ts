/**
 * Segments: saved selections of customers (persons) by who they are, where they are, how they
 * behave and where they come from. One SQL statement per segment: each condition selects customer
 * keys, and the conditions are intersected (`all`) or united (`any`). A customer is a person as
 * identity resolution sees them — every record of one profile counts as one customer, who matches
 * a condition when any of those records does. Customer keys are the ones tenant metrics use: the
 * profile id, or `installation/object type/external id` for a record not yet resolved.
 *
 * - attribute: a canonical person field (`email`, `firstName`, `country`…) or `attributes.<key>`;
 *   `equals` and `contains` ignore case; `present` means non-empty; `not_equals` is every customer
 *   who does not match `equals`.
 * - country: the person's country, else the country of the account they belong to.
 * - rfm: scores 1–5 over all the tenant's customers with activity before `asOf` (see `rfmCtes`).
 * - activity: between `min` and `max` activities (of a kind and/or category) in the `days` days
 *   before `asOf`; with `min` 0, customers without any such activity match too.
 * - product: a purchase or payment whose attributes name the product (`product`, `products[]` or
 *   `lineItems[]`, as a string or an item's product/productTitle/sku/productId/title/name).
 * - platform: a person record synced from an installation of one of the platforms.
 */
import { z } from 'zod';
import { invalidInput, LedgerlineError } from '../errors/index.ts';
import { appendEntries } from '../ledger/ledger.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { SegmentDefinition, type SegmentCondition } from './report-model.ts';

type Sql = Pick<SqlSession, 'query'>;

export interface SavedSegment {
  readonly slug: string;
  readonly definition: SegmentDefinition;
  readonly updatedAt: Date;
  readonly updatedBy: string;
}

/** The customer key of the record named by three columns, given the `identity_member` row joined as `m`. */
export const customerKeySql = (installationId: string, objectType: string, externalId: string): string =>
  `coalesce(m.profile_id::text, ${installationId} || '/' || ${objectType} || '/' || ${externalId})`;

const memberJoin = (alias: string, objectType: string, externalId: string): string =>
  `left join identity_member m on m.tenant_id = ${alias}.tenant_id and m.installation_id = ${alias}.installation_id and m.object_type = ${objectType} and m.external_id = ${externalId}`;

/** Money in and out, as tenant metrics count it: purchases, payments and renewals in, refunds out. */
export const moneyActivitySql = (a: string): string =>
  `${a}.amount is not null and ((${a}.kind = 'transaction' and ${a}.category in ('purchase', 'payment', 'refund')) or (${a}.kind = 'subscription' and ${a}.category = 'renewal'))`;
export const signedAmountSql = (a: string): string => `case when ${a}.category = 'refund' then -${a}.amount else ${a}.amount end`;

/** Every person activity before $2 with its customer key ($1 is the tenant). */
export const personActivityCte = `
  person_activity as not materialized (
    select a.installation_id, a.kind, a.category, a.occurred_at, a.amount, trim(a.currency) as currency, a.attributes, a.driver_type,
           a.driver_object_type, a.driver_external_id, ${customerKeySql('a.installation_id', 'a.subject_object_type', 'a.subject_external_id')} as customer
      from activity a ${memberJoin('a', 'a.subject_object_type', 'a.subject_external_id')}
     where a.tenant_id = $1 and a.subject_kind = 'person' and a.occurred_at < $2
  )`;

/**
 * RFM figures of the `person_activity` rows aliased `p`, as of $2: recency = the newest activity;
 * frequency = interactions and transactions in the 365 days before $2; monetary = net revenue in
 * those days (amounts of different currencies added as they are, for ranking only).
 */
export const rfmFigureColumns = `max(p.occurred_at) as last_activity,
  count(*) filter (where p.kind in ('interaction', 'transaction') and p.occurred_at >= $2::timestamptz - interval '365 days') as frequency,
  coalesce(sum(${signedAmountSql('p')}) filter (where ${moneyActivitySql('p')} and p.occurred_at >= $2::timestamptz - interval '365 days'), 0) as monetary`;

/**
 * Scores 1–5 over the rows of a customer-level relation: 1 + ⌊5 × the share of customers ranked
 * strictly below⌋, capped at 5 — quintiles where ties share the lower score; 5 = most recent,
 * most frequent, highest spending.
 */
const score = (column: string): string => `least(5, 1 + floor(5 * percent_rank() over (order by ${column})))::int`;
export const rfmScoreColumns = `${score('last_activity')} as r, ${score('frequency')} as f, ${score('monetary')} as m`;

/** `person_activity`, and `rfm`: figures and scores per customer over all the tenant's customers with activity before $2. */
export const rfmCtes = `${personActivityCte},
  rfm_figures as (select p.customer, ${rfmFigureColumns} from person_activity p group by p.customer),
  rfm as (select customer, last_activity, frequency, monetary, ${rfmScoreColumns} from rfm_figures)`;

const segmentCtes = `with
  person_record as not materialized (
    select r.installation_id, r.object_type, r.external_id, r.canonical -> 'persons' -> 0 as person, ${customerKeySql('r.installation_id', 'r.object_type', 'r.external_id')} as customer
      from source_record r ${memberJoin('r', 'r.object_type', 'r.external_id')}
     where r.tenant_id = $1 and r.deleted_at is null and jsonb_typeof(r.canonical -> 'persons' -> 0) = 'object'
  ),
  ${rfmCtes},
  person as not materialized (select customer from person_record union select customer from person_activity)`;

/** Product names a transaction's attributes may carry, alone or per item. */
const productMatch = (attributes: string, product: string): string => {
  const item = (v: string) => `case jsonb_typeof(${v}) when 'string' then ${v} #>> '{}' when 'object' then coalesce(${v} ->> 'product', ${v} ->> 'productTitle', ${v} ->> 'sku', ${v} ->> 'productId', ${v} ->> 'title', ${v} ->> 'name') end`;
  const inList = (key: string) =>
    `exists (select 1 from jsonb_array_elements(case jsonb_typeof(${attributes} -> '${key}') when 'array' then ${attributes} -> '${key}' else '[]'::jsonb end) e(v) where lower(${item('e.v')}) = lower(${product}))`;
  return `(lower(${attributes} ->> 'product') = lower(${product}) or ${inList('products')} or ${inList('lineItems')})`;
};

/** Appends query parameters and hands back their placeholders. */
export class QueryParams {
  readonly values: unknown[];
  constructor(...initial: unknown[]) {
    this.values = initial;
  }
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function conditionSql(condition: SegmentCondition, params: QueryParams): string {
  switch (condition.type) {
    case 'attribute': {
      const value = `(person #>> ${params.add(condition.field.split('.'))}::text[])`;
      if (condition.op === 'present') return `select customer from person_record where coalesce(${value}, '') <> ''`;
      const text = params.add(condition.value ?? '');
      if (condition.op === 'contains') return `select customer from person_record where strpos(lower(${value}), lower(${text})) > 0`;
      const equals = `select customer from person_record where lower(${value}) = lower(${text})`;
      return condition.op === 'equals' ? equals : `select customer from person except ${equals}`;
    }
    case 'country':
      return `select p.customer from person_record p
                left join source_record acct on acct.tenant_id = $1 and acct.installation_id = p.installation_id
                      and acct.object_type = p.person -> 'account' ->> 'objectType' and acct.external_id = p.person -> 'account' ->> 'externalId'
               where coalesce(nullif(p.person ->> 'country', ''), acct.canonical -> 'accounts' -> 0 ->> 'country') = any(${params.add(condition.countries)}::text[])`;
    case 'platform':
      return `select p.customer from person_record p join installation i on i.id = p.installation_id and i.tenant_id = $1 where i.platform = any(${params.add(condition.platforms)}::text[])`;
    case 'product':
      return `select customer from person_activity a where a.kind = 'transaction' and a.category in ('purchase', 'payment') and ${productMatch('a.attributes', params.add(condition.product))}`;
    case 'rfm': {
      const within = (column: string, range: readonly [number, number] | undefined) => (range ? ` and ${column} between ${params.add(range[0])} and ${params.add(range[1])}` : '');
      return `select customer from rfm where true${within('r', condition.recency)}${within('f', condition.frequency)}${within('m', condition.monetary)}`;
    }
    case 'activity': {
      const kind = params.add(condition.kind ?? null);
      const category = params.add(condition.category ?? null);
      const counted = `select customer from person_activity
                        where occurred_at >= $2::timestamptz - make_interval(days => ${params.add(condition.days)})
                          and (${kind}::text is null or kind = ${kind}) and (${category}::text is null or category = ${category})
                        group by customer`;
      if (condition.min > 0) return `${counted} having count(*) >= ${params.add(condition.min)}${condition.max === undefined ? '' : ` and count(*) <= ${params.add(condition.max)}`}`;
      return condition.max === undefined ? `select customer from person` : `select customer from person except ${counted} having count(*) > ${params.add(condition.max)}`;
    }
  }
}

/** What the schema cannot say alone: values the operators need, ranges that are not upside down. */
function checkDefinition(definition: SegmentDefinition): void {
  const issues: { path: (string | number)[]; message: string }[] = [];
  definition.conditions.forEach((c, i) => {
    if (c.type === 'attribute' && c.op !== 'present' && (c.value === undefined || c.value === '')) issues.push({ path: ['conditions', i, 'value'], message: `'${c.op}' needs a value` });
    if (c.type === 'rfm') {
      for (const name of ['recency', 'frequency', 'monetary'] as const) {
        const range = c[name];
        if (range && range[0] > range[1]) issues.push({ path: ['conditions', i, name], message: 'the range ends below its start' });
      }
      if (!c.recency && !c.frequency && !c.monetary) issues.push({ path: ['conditions', i], message: 'an RFM condition names at least one score range' });
    }
    if (c.type === 'activity' && c.max !== undefined && c.max < c.min) issues.push({ path: ['conditions', i, 'max'], message: 'max is below min' });
  });
  if (issues.length > 0) throw invalidInput('segment', issues);
}

/** The customer keys matching a segment as of `asOf`, sorted. */
export async function segmentCustomers(sql: Sql, tenantId: string, definition: SegmentDefinition, asOf: Date): Promise<string[]> {
  checkDefinition(definition);
  const params = new QueryParams(tenantId, asOf.toISOString());
  const parts = definition.conditions.map((c) => `(${conditionSql(c, params)})`);
  const rows = await sql.query<{ customer: string }>(
    `${segmentCtes}
     select customer from (${parts.join(definition.match === 'all' ? ' intersect ' : ' union ')}) matched
      group by customer order by customer collate "C"`,
    params.values,
  );
  return rows.map((r) => r.customer);
}

const SlugText = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, starting with a letter');

function requireSlug(slug: string): string {
  const parsed = SlugText.safeParse(slug);
  if (!parsed.success) throw invalidInput('segment slug', parsed.error.issues, 'slug');
  return parsed.data;
}

interface SegmentRow {
  readonly slug: string;
  readonly definition: unknown;
  readonly updated_at: string;
  readonly updated_by: string;
}

function savedSegment(row: SegmentRow): SavedSegment {
  const parsed = SegmentDefinition.safeParse(row.definition);
  // Stored definitions were validated on save; one that no longer parses was changed behind Ledgerline's back.
  if (!parsed.success) throw new LedgerlineError('LL_INTEGRITY', `the stored definition of segment '${row.slug}' is not a valid segment`, { details: { field: 'definition' } });
  return { slug: row.slug, definition: parsed.data, updatedAt: new Date(row.updated_at), updatedBy: row.updated_by };
}

export function createSegmentStore(sql: SqlSession) {
  const get = async (tenantId: string, slug: string): Promise<SavedSegment | null> => {
    const [row] = await sql.query<SegmentRow>(`select slug, definition, updated_at, updated_by from segment where tenant_id = $1 and slug = $2`, [tenantId, slug]);
    return row ? savedSegment(row) : null;
  };
  return {
    async list(tenantId: string): Promise<SavedSegment[]> {
      const rows = await sql.query<SegmentRow>(`select slug, definition, updated_at, updated_by from segment where tenant_id = $1 order by slug`, [tenantId]);
      return rows.map(savedSegment);
    },
    get,
    async save(tenantId: string, slug: string, input: unknown, by: string): Promise<SavedSegment> {
      requireSlug(slug);
      const parsed = SegmentDefinition.safeParse(input);
      if (!parsed.success) throw invalidInput('segment', parsed.error.issues);
      checkDefinition(parsed.data);
      return sql.transaction(async (tx) => {
        const [row] = await tx.query<SegmentRow>(
          `insert into segment (tenant_id, slug, definition, updated_by) values ($1, $2, $3, $4)
           on conflict (tenant_id, slug) do update set definition = excluded.definition, updated_at = now(), updated_by = excluded.updated_by
           returning slug, definition, updated_at, updated_by`,
          [tenantId, slug, JSON.stringify(parsed.data), by],
        );
        await appendEntries((s, p) => tx.query(s, p), tenantId, [{ kind: 'segment.saved', body: { slug, by, definition: parsed.data } }]);
        return savedSegment(row!);
      });
    },
    async remove(tenantId: string, slug: string, by: string): Promise<void> {
      await sql.transaction(async (tx) => {
        const removed = await tx.query(`delete from segment where tenant_id = $1 and slug = $2 returning slug`, [tenantId, slug]);
        if (removed.length === 0) throw new LedgerlineError('LL_NOT_FOUND', `no segment '${slug}'`, { details: { field: 'slug' } });
        await appendEntries((s, p) => tx.query(s, p), tenantId, [{ kind: 'segment.removed', body: { slug, by } }]);
      });
    },
    /** How many customers match a saved segment now. */
    async size(tenantId: string, slug: string): Promise<number> {
      const segment = await get(tenantId, slug);
      if (!segment) throw new LedgerlineError('LL_NOT_FOUND', `no segment '${slug}'`, { details: { field: 'slug' } });
      return (await segmentCustomers(sql, tenantId, segment.definition, new Date())).length;
    },
  };
}
