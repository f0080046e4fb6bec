import { stopTestServer } from './test-postgres';

export default stopTestServer;
