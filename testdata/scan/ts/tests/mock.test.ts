import { vi, it } from 'vitest';
import OpenAI from 'openai';

vi.mock('openai');

it('mocks the SDK', async () => {
  const client = new OpenAI();
  await client.chat.completions.create({ model: 'm', messages: [] });
  const mockClient = { chat: { completions: { create: vi.fn() } } };
  await mockClient.chat.completions.create({});
});
