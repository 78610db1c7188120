/**
 * Type test, checked by `tsc` (part of `npm test`): the summary the endpoint sends and the type the
 * HubSpot card reads are the same shape. A field added, removed or retyped on either side stops
 * this compiling. Nothing here runs.
 */
import type { AccountSummary as CardSummary } from '../../ui-extensions/hubspot/src/app/cards/summary-types.ts';
import type { AccountSummary } from './summary-schema.ts';

type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const served: (summary: AccountSummary) => CardSummary = (summary) => summary;
const read: (summary: CardSummary) => AccountSummary = (summary) => summary;
const same: Exactly<AccountSummary, CardSummary> = true;

// The control: a summary missing a field is not a card summary.
// @ts-expect-error reportUrl is required by the card
const missing: CardSummary = { ...({} as AccountSummary), reportUrl: undefined };

export const summaryContract = { served, read, same, missing };
