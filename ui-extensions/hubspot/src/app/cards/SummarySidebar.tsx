import { hubspot } from '@hubspot/ui-extensions';
import { SummaryCard } from './summary-card';

hubspot.extend<'crm.record.sidebar'>(({ context }) => <SummaryCard context={context} compact={true} />);
