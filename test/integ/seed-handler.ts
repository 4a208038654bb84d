import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { isComplete, onEvent, type SeedEvent } from './seed';

// The seed resource's Lambda entry points (bundled by NodejsFunction in the integration app).
const client = new RedshiftDataClient({ maxAttempts: 6 });

export const onEventHandler = (event: SeedEvent) => onEvent(event, client);
export const isCompleteHandler = (event: SeedEvent) => isComplete(event, client);
