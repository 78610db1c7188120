import { hubspot } from '@hubspot/ui-extensions';
import { SummaryCard } from './summary-card';

hubspot.extend<'crm.record.tab'>(({ context }) => <SummaryCard context={context} compact={false} />);
