import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { countRows, isComplete, onEvent, type CountEnvironment, type SeedEvent } from './seed';

// The seed resource's and the count's Lambda entry points (bundled by NodejsFunction in the integration app).
const client = new RedshiftDataClient({ maxAttempts: 6 });

export const onEventHandler = (event: SeedEvent) => onEvent(event, client);
export const isCompleteHandler = (event: SeedEvent) => isComplete(event, client);
export const countHandler = () => countRows(process.env as unknown as CountEnvironment, client);
