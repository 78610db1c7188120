/** The HubSpot streams: which properties and associations each reads, and its mapper. */
import { hubspotObjectStream } from './object-stream.ts';
import { engagementTypes, mapCompany, mapContact, mapDeal, mapEngagement, mapTicket } from './mappers.ts';

const owner = ['hubspot_owner_id'];

export const contacts = hubspotObjectStream({
  name: 'contacts',
  objectType: 'contact',
  hubspotType: 'contacts',
  produces: ['person', 'activity'],
  modifiedProperty: 'lastmodifieddate',
  properties: ['email', 'firstname', 'lastname', 'phone', 'mobilephone', 'company', 'country', 'lifecyclestage', 'associatedcompanyid', 'hs_merged_object_ids', 'createdate', 'lastmodifieddate', ...owner],
  associations: [],
  map: mapContact,
});

export const companies = hubspotObjectStream({
  name: 'companies',
  objectType: 'company',
  hubspotType: 'companies',
  produces: ['account', 'activity'],
  modifiedProperty: 'hs_lastmodifieddate',
  properties: ['name', 'domain', 'country', 'industry', 'annualrevenue', 'numberofemployees', 'createdate', 'hs_lastmodifieddate', ...owner],
  associations: [],
  map: mapCompany,
});

export const deals = hubspotObjectStream({
  name: 'deals',
  objectType: 'deal',
  hubspotType: 'deals',
  produces: ['activity'],
  modifiedProperty: 'hs_lastmodifieddate',
  properties: ['dealname', 'amount', 'deal_currency_code', 'dealstage', 'pipeline', 'closedate', 'dealtype', 'hs_is_closed_won', 'hs_is_closed', 'createdate', 'hs_lastmodifieddate', ...owner],
  associations: ['contacts', 'companies'],
  map: mapDeal,
});

export const tickets = hubspotObjectStream({
  name: 'tickets',
  objectType: 'ticket',
  hubspotType: 'tickets',
  produces: ['activity'],
  modifiedProperty: 'hs_lastmodifieddate',
  properties: ['subject', 'content', 'hs_pipeline', 'hs_pipeline_stage', 'hs_ticket_priority', 'hs_ticket_category', 'closed_date', 'createdate', 'hs_lastmodifieddate', ...owner],
  associations: ['contacts', 'companies'],
  map: mapTicket,
});

const engagementProperties: Record<(typeof engagementTypes)[number], string[]> = {
  calls: ['hs_call_title', 'hs_call_direction', 'hs_call_duration', 'hs_call_status'],
  emails: ['hs_email_subject', 'hs_email_direction'],
  meetings: ['hs_meeting_title', 'hs_meeting_start_time', 'hs_meeting_end_time', 'hs_meeting_outcome'],
  notes: ['hs_note_body'],
  tasks: ['hs_task_subject', 'hs_task_status', 'hs_task_priority'],
};

export const engagements = engagementTypes.map((type) =>
  hubspotObjectStream({
    name: type,
    objectType: type.slice(0, -1),
    hubspotType: type,
    produces: ['activity'],
    modifiedProperty: 'hs_lastmodifieddate',
    properties: [...engagementProperties[type], 'hs_timestamp', 'hs_createdate', 'createdate', 'hs_lastmodifieddate', ...owner],
    associations: ['contacts', 'companies', 'deals', 'tickets'],
    map: (raw) => mapEngagement(type, raw),
  }),
);

export const hubspotStreams = [contacts, companies, deals, tickets, ...engagements];
