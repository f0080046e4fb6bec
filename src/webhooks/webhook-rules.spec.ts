import { unknownWebhookEvents, webhookUrlProblem } from './webhook-rules';

describe('webhook rules', () => {
  it.each([
    ['https://crm.example.com/hooks/wa', null],
    ['http://10.0.0.5:8080/in', null],
    ['ftp://crm.example.com/', 'must be an absolute http:// or https:// URL'],
    ['crm.example.com/hook', 'must be an absolute http:// or https:// URL'],
    ['javascript:alert(1)', 'must be an absolute http:// or https:// URL'],
    ['https://user:pass@crm.example.com/', 'must not hold a user name or password (deliveries are signed with the secret instead)'],
    ['https://user@crm.example.com/', 'must not hold a user name or password (deliveries are signed with the secret instead)'],
    [`https://crm.example.com/${'a'.repeat(2100)}`, 'must be at most 2048 characters'],
  ])('%s: %s', (url, problem) => {
    expect(webhookUrlProblem(url)).toBe(problem);
  });

  it('names the events it does not know', () => {
    expect(unknownWebhookEvents(['message', 'qr', 'Message', 'sync_chats_done', 'sync_chats'])).toEqual(['qr', 'Message', 'sync_chats']);
  });
});
