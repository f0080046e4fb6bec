import { startTestServer } from './test-postgres';

export default startTestServer;
